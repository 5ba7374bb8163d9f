// Structs by value (kernel arguments and function arguments/results) and in global memory.
typedef struct {
    float x, y;
    int id;
    char tag;
} point_t;

typedef struct {
    float scale;
    float bias;
    int count;
} config_t;

__attribute__((noinline)) point_t transform(point_t p, config_t c) {
    point_t r;
    r.x = p.x * c.scale + c.bias;
    r.y = p.y * c.scale - c.bias;
    r.id = p.id + c.count;
    r.tag = p.tag + 1;
    return r;
}

__kernel void structs(config_t cfg, __global const point_t *in, __global point_t *out) {
    size_t i = get_global_id(0);
    point_t p = in[i];
    out[i] = transform(p, cfg);
}
