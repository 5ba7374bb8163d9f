// Minimal: two printf calls per work-item, two work-items in one group.
__kernel void k(void) {
    printf("a%d\n", (int)get_global_id(0));
    printf("b%d\n", (int)get_global_id(0));
}
