package io.skiff.broker.net;

import io.skiff.broker.memory.ProduceMemoryPool;
import io.skiff.broker.memory.RequestBackpressure;
import io.skiff.broker.memory.RequestFrameAllocator;

/**
 * What bounds the Kafka listener's connections and their memory.
 *
 * @param frames where request frames are read into (the request buffer pool)
 * @param produceMemory reserved for each Produce request from decode until its appends commit
 * @param produceMaxBlockMs how long a Produce request may wait for produce memory before it is
 *     answered REQUEST_TIMED_OUT
 * @param backpressure the memory pressure actions applied to every request
 * @param maxConnections connections open at once; more are closed at once ({@code max.connections},
 *     by default the tier's)
 * @param tierName the deployment tier, named in the errors the limits cause
 */
public record ConnectionLimits(
    RequestFrameAllocator frames,
    ProduceMemoryPool produceMemory,
    long produceMaxBlockMs,
    RequestBackpressure backpressure,
    int maxConnections,
    String tierName) {}
