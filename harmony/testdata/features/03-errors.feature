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
