Feature: Edge cases
    The smallest ring, a frame that fills the ring exactly, empty frames,
    coalesced wake-ups and racing creators.

    Scenario: X1 - The smallest ring
        Given the 'reader' process creates buffer 'go-edge-min' with minimum viable size '64'
        When the 'writer' process connects to buffer 'go-edge-min'
        And the 'writer' process writes single byte frame
        Then the 'writer' process should verify write succeeded
        When the 'writer' process attempts to write '49' byte frame
        Then the 'writer' process should receive FrameTooLargeException

    Scenario: X2 - A frame that fills the ring exactly
        Given the 'reader' process creates buffer 'go-edge-exact' with metadata size '0' and payload size '4096'
        When the 'writer' process connects to buffer 'go-edge-exact'
        And the 'writer' process writes frame with exact size '4080'
        Then buffer should be completely full
        When the 'reader' process reads frame
        Then the frame should have size '4080'
        When the 'reader' process signals space available
        Then the 'writer' process should be able to write again

    Scenario: X3 - Empty frames are refused, the header is 16 bytes
        Given the 'reader' process creates buffer 'go-edge-zero' with metadata size '0' and payload size '4096'
        When the 'writer' process connects to buffer 'go-edge-zero'
        And the 'writer' process attempts to write frame with size '0'
        Then the 'writer' process should fail with zero size error
        When the 'writer' process writes frame with size '1'
        Then the 'reader' process should read frame with size '1'
        And frame overhead should be '16' bytes

    Scenario: X4 - Wake-ups add up while the reader sleeps
        Given the 'reader' process creates buffer 'go-edge-coalesce' with default config
        When the 'writer' process connects to buffer 'go-edge-coalesce'
        And the 'writer' process writes '8' frames rapidly without reader consuming
        Then the 'writer' process the semaphore count should represent pending frames
        When the 'reader' process wakes and processes all frames
        Then the 'reader' process all frames should be read correctly
        And the 'reader' process the coalesced signals should be handled properly

    Scenario: X5 - Two creators race, one wins
        Given two 'reader' processes
        When both simultaneously attempt to create buffer 'go-edge-race'
        Then only one should succeed
        And other should receive appropriate error
        And no resource corruption should occur

    Scenario: X6 - Many frames, read as they come
        Given the 'reader' process creates buffer 'go-edge-rapid' with metadata size '0' and payload size '8192'
        When the 'writer' process connects to buffer 'go-edge-rapid'
        And the 'writer' process writes '2000' frames of size '256' rapidly
        And the 'reader' process reads all frames and signals immediately
        Then all sequence numbers should be correct
        And no frames should be lost
        And no deadlocks should occur

    Scenario: X7 - Names, files and the lock on Linux
        Given the platform is 'Linux'
        And the 'reader' process creates buffer 'go-edge-files' with default config
        Then verify shared memory entry exists in '/dev/shm/'
        And verify proper named semaphores created
        And verify lock file exists at correct location
        And verify lock file is actually locked
        And test with buffer names containing special characters
        When test maximum name length
        Then both platforms should handle it correctly
        When gracefully shutdown
        Then verify proper cleanup in '/dev/shm/'
        And verify lock file is removed

    Scenario: X8 - Running out of descriptors fails cleanly
        Given create maximum number of buffers system allows
        When reach system limit
        Then the test should verify graceful failure when limit reached
        When cleanup all buffers
        Then the test should verify resources properly released
        And the system should return to normal state
