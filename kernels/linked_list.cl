// build: -cl-std=CL2.0
// Structs that point to their own type (SPIR-V `OpTypeForwardPointer`) in the three storage
// classes a pointer member can have: `__global` (CrossWorkgroup), generic, `__private`
// (Function).

struct gnode {
  long v;
  __global struct gnode *next;
};

struct node {
  int v;
  struct node *next;
};

struct pnode {
  int v;
  __private struct pnode *next;
};

// Links nodes[order[0]] -> nodes[order[1]] -> ... -> nodes[order[n - 1]] -> NULL.
__kernel void link_list(__global struct gnode *nodes, __global const int *order, int n) {
  int k = get_global_id(0);
  __global struct gnode *next = k + 1 < n ? &nodes[order[k + 1]] : 0;
  nodes[order[k]].next = next;
}

// From nodes[heads[i]] to the end of its list: out[2i] the sum of the values met, weighted
// by their position (1, 2, ...), out[2i + 1] how many.
__kernel void walk_list(__global const struct gnode *nodes, __global const int *heads,
                        __global long *out) {
  size_t i = get_global_id(0);
  __global const struct gnode *p = &nodes[heads[i]];
  long sum = 0, len = 0;
  while (p) {
    len++;
    sum += len * p->v;
    p = p->next;
  }
  out[2 * i] = sum;
  out[2 * i + 1] = len;
}

// A list in private memory (`__private` pointers): each work-item links its 6 values in
// reverse, walks the list and stores the values in the order met, then how many it met.
__kernel void private_list(__global const int *in, __global int *out) {
  size_t g = get_global_id(0);
  struct pnode ps[6];
  for (int k = 0; k < 6; k++) {
    ps[k].v = in[g * 6 + k];
    ps[k].next = k > 0 ? &ps[k - 1] : 0;
  }
  int k = 0;
  for (__private struct pnode *p = &ps[5]; p; p = p->next) {
    out[g * 7 + k++] = p->v;
  }
  out[g * 7 + 6] = k;
}

// A list in local memory (generic pointers): the work-group's values, 4 per work-item, linked
// in local id order; work-item 0 walks it: out[group] holds the count, the sum and the
// values weighted by their position.
__kernel void local_list(__global const int *in, __global int *out) {
  __local struct node lnodes[4 * 64];
  size_t g = get_global_id(0);
  size_t l = get_local_id(0);
  size_t last = get_local_size(0) * 4 - 1;
  for (int j = 0; j < 4; j++) {
    struct node *n = &lnodes[l * 4 + j];
    n->v = in[g * 4 + j];
    n->next = l * 4 + j < last ? &lnodes[l * 4 + j + 1] : 0;
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  if (l == 0) {
    int count = 0, sum = 0, weighted = 0;
    for (struct node *n = &lnodes[0]; n; n = n->next) {
      count++;
      sum += n->v;
      weighted += count * n->v;
    }
    out[get_group_id(0) * 3] = count;
    out[get_group_id(0) * 3 + 1] = sum;
    out[get_group_id(0) * 3 + 2] = weighted;
  }
}
