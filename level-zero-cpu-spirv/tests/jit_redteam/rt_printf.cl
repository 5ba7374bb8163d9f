// printf: one call per work-item, several calls per work-item, vectors, in a loop and
// behind a branch.
__kernel void one_printf(__global const int *in) {
    int g = get_global_id(0);
    printf("g=%d v=%d x=%08x\n", g, in[g], in[g]);
}

__kernel void two_printfs(__global const int *in) {
    int g = get_global_id(0);
    printf("A%d ", g);
    printf("B%d\n", in[g]);
}

__kernel void printf_loop(__global const int *in) {
    int g = get_global_id(0);
    for (int i = 0; i < (g & 3); ++i)
        printf("%d:%d ", g, i);
    if (in[g] > 2)
        printf("big %d\n", g);
}

__kernel void printf_vec(__global const float4 *in) {
    int g = get_global_id(0);
    printf("%d %v4hlf %5.2f\n", g, in[g], in[g].x);
}
