// Minimal: work-item 1 faults at the first access (a read), work-item 0 at the second (a
// write). Which fault is the launch's?
__kernel void k(__global int *buf, int n) {
    int g = get_global_id(0);
    int x = buf[g == 1 ? n : g];
    buf[g == 0 ? n : g] = x;
}
