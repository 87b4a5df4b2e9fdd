Feature: Contradictions
    The shapes of the reference scenarios that expect what no protocol-correct
    ring does (CONTRADICTIONS.md). Each must fail at the step named in its
    title, with an error that points to CONTRADICTIONS.md.

    Scenario: C1 - A frame that can never be placed after a wrap (step 6)
        Given the 'reader' process creates buffer 'go-c-wrap' with metadata size '0' and payload size '10240'
        When the 'writer' process connects to buffer 'go-c-wrap'
        And the 'writer' process writes frame with size '6144'
        Then the 'reader' process should read frame with size '6144'
        When the 'reader' process signals space available
        And the 'writer' process writes frame with size '7168'
        Then the 'writer' process should wait for space

    Scenario: C2 - A wrap before the reader has read anything (step 5)
        Given the 'reader' process creates buffer 'go-c-waste' with metadata size '0' and payload size '10240'
        When the 'writer' process connects to buffer 'go-c-waste'
        And writes frame that leaves '100' bytes at end with 'incremental' pattern
        And attempts to write '200' byte frame with 'sequential' pattern
        Then the 'writer' process should write wrap marker at current position

    Scenario: C3 - Expected is the frame after the last one read (step 10)
        Given the 'reader' process creates buffer 'go-c-gap' with default config
        When the 'writer' process connects to buffer 'go-c-gap'
        And the 'writer' process writes frame with sequence '1'
        And the 'writer' process writes frame with sequence '2'
        And the 'writer' process writes frame with sequence '3'
        Then the 'reader' process should read frame with sequence '1'
        And the 'reader' process should read frame with sequence '2'
        When the test corrupts next frame sequence to '5'
        And the 'reader' process attempts to read frame
        Then the error should show expected '4' got '5'

    Scenario: C4 - A frame larger than the default ring (step 3)
        Given the 'reader' process creates buffer 'go-c-big' with default config
        When the 'writer' process connects to buffer 'go-c-big'
        And the 'writer' process writes frame with size '1048576' using incrementing pattern

    Scenario: C5 - One response per request never blocks an empty ring (step 6)
        Given the 'server' process creates immutable duplex channel 'go-c-full' with metadata size '1024' and payload size '10240'
        And the 'server' process starts handler that doubles request size
        When the 'client' process creates duplex channel client 'go-c-full'
        And the 'client' process sends request with size '4096'
        Then the 'server' process attempts to send response of '8192' bytes
        And the 'server' process should block on response write
