Feature: Resources and measurements
    CPU, permissions and the benchmark steps, on real rings. Figures go to
    the step logs; no scenario here checks a timing.

    Background:
        Given the test environment is initialized
        And all processes are ready

    Scenario: R1 - A blocked reader uses no CPU, a busy one copies efficiently
        Given the 'reader' process creates buffer 'go-perf-cpu' with default config
        When the 'writer' process connects to buffer 'go-perf-cpu'
        Then monitor CPU usage during idle (blocked on semaphore)
        And verify near-zero CPU when waiting
        When transfer data actively
        Then monitor CPU during active transfer
        And verify efficient data copying

    Scenario: R2 - Another user's writer is refused, the buffer stays intact
        Given the reader is 'owner'
        And the 'reader' process creates buffer 'go-perf-perm' with restrictive permissions
        When the writer is 'stranger'
        And another writer attempts to connect without permissions
        Then permission denied error should be handled
        And no resource corruption should occur

    Scenario: R3 - Latency and throughput are measured and reported
        Given benchmark environment is prepared
        And the 'reader' process creates buffer 'go-perf-bench' with large config
        When the 'writer' process connects to buffer 'go-perf-bench'
        Then measure latency for frame sizes:
            | size | iterations | expected        |
            | 1KB  | 200        | sub-millisecond |
            | 64KB | 100        | sub-millisecond |
        And report Min, Max, Mean, P50, P90, P99, P99.9
        And measure throughput for '0.3' seconds with frame sizes:
            | size | metric             |
            | 4KB  | frames/sec, MB/sec |
        And report CPU usage percentage

    Scenario: R4 - Wrap-around, barriers and semaphores are measured
        Given benchmark environment is prepared
        And buffer size is '1.5x' frame size to force wrap
        When measure performance with wrap-around
        And measure performance without wrap-around
        Then calculate overhead percentage
        Given measure atomic fence operations
        When compare with and without memory barriers
        Then verify data integrity maintained
        Given measure sem_post/sem_wait operation cost
        When test at rates:
            | rate  | expected_impact |
            | 100Hz | negligible      |
            | 10kHz | negligible      |
        Then report CPU usage and latency impact

    Scenario: R5 - A writer faster than its reader fills the ring, then it drains
        Given the 'reader' process creates buffer 'go-perf-util' with default config
        And the 'writer' process is configured to be faster than reader
        When monitor buffer utilization over time
        Then verify degradation detection at '80%'
        And report time to degradation
        And report recovery time
