/* A plain C Level Zero client, built against the system headers and loader: enumerates
 * devices, allocates, and copies host -> device 0 -> device 1 (peer) -> host, checking the
 * bytes. Exit status 0 on success; every failure names the call and its result. */
#include <level_zero/ze_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                  \
    do {                                                                             \
        ze_result_t r_ = (call);                                                     \
        if (r_ != ZE_RESULT_SUCCESS) {                                               \
            fprintf(stderr, "FAILED: %s = 0x%x (line %d)\n", #call, (unsigned)r_,    \
                    __LINE__);                                                       \
            return 1;                                                                \
        }                                                                            \
    } while (0)

int main(void) {
    CHECK(zeInit(0));
    uint32_t ndrivers = 0;
    CHECK(zeDriverGet(&ndrivers, NULL));
    if (ndrivers == 0) {
        fprintf(stderr, "FAILED: no driver\n");
        return 1;
    }
    ze_driver_handle_t driver;
    ndrivers = 1;
    CHECK(zeDriverGet(&ndrivers, &driver));

    uint32_t ndevices = 0;
    CHECK(zeDeviceGet(driver, &ndevices, NULL));
    if (ndevices < 2) {
        fprintf(stderr, "FAILED: %u devices, need 2\n", ndevices);
        return 1;
    }
    ze_device_handle_t devices[2];
    ndevices = 2;
    CHECK(zeDeviceGet(driver, &ndevices, devices));
    for (uint32_t i = 0; i < ndevices; i++) {
        ze_device_properties_t props = {.stype = ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES};
        CHECK(zeDeviceGetProperties(devices[i], &props));
        if (props.type != ZE_DEVICE_TYPE_CPU) {
            fprintf(stderr, "FAILED: device %u is not a CPU device\n", i);
            return 1;
        }
        printf("device %u: %s\n", i, props.name);
    }
    ze_bool_t peer = 0;
    CHECK(zeDeviceCanAccessPeer(devices[0], devices[1], &peer));
    if (!peer) {
        fprintf(stderr, "FAILED: no peer access\n");
        return 1;
    }

    ze_context_desc_t cdesc = {.stype = ZE_STRUCTURE_TYPE_CONTEXT_DESC};
    ze_context_handle_t context;
    CHECK(zeContextCreate(driver, &cdesc, &context));

    const size_t size = 1 << 20;
    ze_device_mem_alloc_desc_t ddesc = {.stype = ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC};
    ze_host_mem_alloc_desc_t hdesc = {.stype = ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC};
    void *d0 = NULL, *d1 = NULL, *host = NULL;
    CHECK(zeMemAllocDevice(context, &ddesc, size, 64, devices[0], &d0));
    CHECK(zeMemAllocDevice(context, &ddesc, size, 64, devices[1], &d1));
    CHECK(zeMemAllocHost(context, &hdesc, size, 64, &host));

    unsigned char *src = malloc(size), *dst = malloc(size);
    for (size_t i = 0; i < size; i++) src[i] = (unsigned char)(i * 7 + 3);
    memset(dst, 0, size);

    ze_command_queue_desc_t qdesc = {.stype = ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC,
                                      .mode = ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
                                      .priority = ZE_COMMAND_QUEUE_PRIORITY_NORMAL};
    ze_command_queue_handle_t queue;
    CHECK(zeCommandQueueCreate(context, devices[0], &qdesc, &queue));
    ze_command_list_desc_t ldesc = {.stype = ZE_STRUCTURE_TYPE_COMMAND_LIST_DESC};
    ze_command_list_handle_t list;
    CHECK(zeCommandListCreate(context, devices[0], &ldesc, &list));
    CHECK(zeCommandListAppendMemoryCopy(list, d0, src, size, NULL, 0, NULL));
    CHECK(zeCommandListAppendBarrier(list, NULL, 0, NULL));
    CHECK(zeCommandListAppendMemoryCopy(list, d1, d0, size, NULL, 0, NULL));
    CHECK(zeCommandListAppendBarrier(list, NULL, 0, NULL));
    CHECK(zeCommandListAppendMemoryCopy(list, host, d1, size, NULL, 0, NULL));
    CHECK(zeCommandListAppendBarrier(list, NULL, 0, NULL));
    CHECK(zeCommandListAppendMemoryCopy(list, dst, host, size, NULL, 0, NULL));
    CHECK(zeCommandListClose(list));
    ze_fence_desc_t fdesc = {.stype = ZE_STRUCTURE_TYPE_FENCE_DESC};
    ze_fence_handle_t fence;
    CHECK(zeFenceCreate(queue, &fdesc, &fence));
    CHECK(zeCommandQueueExecuteCommandLists(queue, 1, &list, fence));
    CHECK(zeFenceHostSynchronize(fence, UINT64_MAX));
    CHECK(zeCommandQueueSynchronize(queue, UINT64_MAX));

    if (memcmp(src, dst, size) != 0) {
        fprintf(stderr, "FAILED: the bytes that came back differ\n");
        return 1;
    }

    CHECK(zeFenceDestroy(fence));
    CHECK(zeCommandListDestroy(list));
    CHECK(zeCommandQueueDestroy(queue));
    CHECK(zeMemFree(context, d0));
    CHECK(zeMemFree(context, d1));
    CHECK(zeMemFree(context, host));
    CHECK(zeContextDestroy(context));
    free(src);
    free(dst);
    printf("OK: %u devices, host -> device 0 -> device 1 -> host, %zu bytes\n", ndevices, size);
    return 0;
}
