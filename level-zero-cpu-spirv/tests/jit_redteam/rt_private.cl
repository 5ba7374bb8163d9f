// Private arrays indexed dynamically: a per-work-item insertion sort, a private stack,
// private arrays of structs and of vectors.
__kernel void sort_private(__global const int *in, __global int *out) {
    int g = get_global_id(0);
    int a[16];
    for (int i = 0; i < 16; ++i)
        a[i] = in[(g * 16 + i * 7) % 256];
    for (int i = 1; i < 16; ++i) {
        int x = a[i], j = i - 1;
        while (j >= 0 && a[j] > x) {
            a[j + 1] = a[j];
            --j;
        }
        a[j + 1] = x;
    }
    for (int i = 0; i < 16; ++i)
        out[g * 16 + i] = a[i];
}

typedef struct { int key; float val; char tag; } Item;

__kernel void private_structs(__global const int *in, __global float *out) {
    int g = get_global_id(0);
    Item items[6];
    float4 vs[3];
    for (int i = 0; i < 6; ++i) {
        items[i].key = (in[g + i] & 0x7fff) % 5;
        items[i].val = (float)in[g + i] * 0.5f;
        items[i].tag = (char)(i - 3);
    }
    for (int i = 0; i < 3; ++i)
        vs[i] = (float4)(i, i + g, items[i].val, items[5 - i].val);
    float s = 0;
    for (int i = 0; i < 6; ++i) {
        int k = items[i].key;
        s += items[k].val * items[i].tag + vs[k % 3][i % 4];
    }
    out[g] = s;
}

// A private stack (explicit DFS over a tiny implicit tree).
__kernel void private_stack(__global int *out) {
    int g = get_global_id(0);
    int stack[32];
    int sp = 0, visits = 0, sum = 0;
    stack[sp++] = 1;
    while (sp > 0) {
        int node = stack[--sp];
        ++visits;
        sum += node * (g + 1);
        if (node * 2 + 1 < 40 + g % 7) {
            stack[sp++] = node * 2 + 1;
            stack[sp++] = node * 2;
        }
    }
    out[2 * g] = visits;
    out[2 * g + 1] = sum;
}
