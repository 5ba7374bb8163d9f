// Benchmark kernel: does nothing (launch latency).
__kernel void empty(void) {}
