Feature: Errors
    Misuse gets a clear error, and the buffer stays intact.

    Scenario: E1 - Metadata is written once
        Given the 'reader' process creates buffer 'go-err-meta' with metadata size '512' and payload size '8192'
        When the 'writer' process connects to buffer 'go-err-meta'
        And the 'writer' process writes metadata with size '100'
        And the 'writer' process writes frame with data 'x'
        And the 'writer' process attempts to write metadata again with size '50'
        Then the 'writer' process verifies the second metadata write should fail
        And the 'reader' process verifies the original metadata should remain unchanged

    Scenario: E2 - Metadata larger than its block
        Given the 'reader' process creates buffer 'go-err-big-meta' with metadata size '128' and payload size '8192'
        When the 'writer' process connects to buffer 'go-err-big-meta'
        And the 'writer' process attempts to write metadata with size '4096'
        Then the 'writer' process verifies the metadata write should fail with size error

    Scenario: E3 - No metadata block at all
        Given the 'reader' process creates buffer 'go-err-no-meta' with metadata size '0' and payload size '8192'
        When the 'writer' process connects to buffer 'go-err-no-meta'
        And the 'writer' process writes frames without metadata
        Then the 'reader' process should read frames successfully
        And the 'reader' process verifies the system should work without metadata

    Scenario: E4 - A writer without a reader
        Given the system is ready
        When a 'writer' process attempts to connect to non-existent buffer 'go-err-nobody'
        Then the connection should fail with appropriate error
        And error should indicate no shared memory found

    Scenario: E5 - A Windows-only check is skipped on Linux
        Given the platform is 'Windows'
        And the 'reader' process creates buffer 'go-err-windows' with default config
        Then verify CreateFileMapping with proper naming

    Scenario: E6 - A corrupt control block is refused
        Given the 'reader' process creates buffer 'go-err-oieb' with default config
        When the 'writer' process connects to buffer 'go-err-oieb'
        And the test corrupts OIEB field 'operation_size' to wrong value
        And a second 'writer' process attempts to connect to buffer 'go-err-oieb'
        Then the connection should fail with invalid OIEB error

    Scenario: E7 - A frame header of size zero is corruption
        Given the 'reader' process creates buffer 'go-err-header' with default config
        When the 'writer' process connects to buffer 'go-err-header'
        And the 'writer' process writes frame with data 'abc'
        And the test corrupts frame header 'payload_size' to '0'
        And the 'reader' process attempts to read frame
        Then the read should fail with invalid frame size error

    Scenario: E8 - A sequence gap names both numbers
        Given the 'reader' process creates buffer 'go-err-gap' with default config
        When the 'writer' process connects to buffer 'go-err-gap'
        And the 'writer' process writes frame with sequence '1'
        And the 'writer' process writes frame with sequence '2'
        Then the 'reader' process should read frame with sequence '1'
        When the test corrupts next frame sequence to '7'
        And the 'reader' process attempts to read frame
        Then the read should fail with sequence error
        And the error should show expected '2' got '7'

    Scenario: E9 - The writer notices a killed reader mid-stream
        Given the 'reader' process creates buffer 'go-err-reader-gone' with metadata size '0' and payload size '10240'
        When the 'writer' process connects to buffer 'go-err-reader-gone'
        And the 'writer' process starts writing large frame '8192' bytes
        And the 'reader' process is killed while write in progress
        And the 'writer' process detects reader death on next operation
        Then the 'writer' process should throw reader dead exception
