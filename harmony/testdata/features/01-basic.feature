Feature: Basic exchange
    A reader creates a buffer, a writer connects and writes, the reader
    reads back exactly what was written, in order.

    Background:
        Given the test environment is initialized
        And all processes are ready

    Scenario: B1 - One frame with metadata
        Given the 'reader' process creates buffer 'go-basic-one' with metadata size '256' and payload size '8192'
        When the 'writer' process connects to buffer 'go-basic-one'
        And the 'writer' process writes metadata with size '64'
        And the 'writer' process writes frame with size '512' and sequence '1'
        Then the 'reader' process should read frame with sequence '1' and size '512'
        And the 'reader' process should validate frame data
        And the 'reader' process signals space available

    Scenario: B2 - Frames keep their order
        Given the 'reader' process creates buffer 'go-basic-order' with metadata size '0' and payload size '65536'
        When the 'writer' process connects to buffer 'go-basic-order'
        And the 'writer' process writes frame with sequence '1'
        And the 'writer' process writes frame with sequence '2'
        Then the 'reader' process should read frame with sequence '1';
        And the 'reader' process signals space available
        And the 'reader' process should read frame with sequence '2';
        And the 'reader' process should verify all frames maintain sequential order

    Scenario: B3 - Zero-copy frame
        Given the 'reader' process creates buffer 'go-basic-zc' with metadata size '0' and payload size '16384'
        When the 'writer' process connects to buffer 'go-basic-zc'
        And the 'writer' process requests zero-copy frame of size '2048'
        And the 'writer' process fills zero-copy buffer with test pattern
        And the 'writer' process commits zero-copy frame
        Then the 'reader' process should read frame with size '2048'
        And the 'reader' process should verify frame data matches test pattern

    Scenario: B4 - Sizes from one byte to most of the ring
        Given the 'reader' process creates buffer 'go-basic-sizes' with metadata size '0' and payload size '32768'
        When the 'writer' process connects to buffer 'go-basic-sizes'
        And the 'writer' process writes frame with size '1'
        And the 'writer' process writes frame with size '4000'
        And the 'writer' process writes frame with size '20000'
        Then the 'reader' process should read 3 frames with sizes '1,4000,20000' in order

    Scenario: B5 - A full ring makes the writer wait, a read lets it go on
        Given the 'reader' process creates buffer 'go-basic-full' with metadata size '0' and payload size '8192'
        When the 'writer' process connects to buffer 'go-basic-full'
        And the 'writer' process writes frames until buffer is full
        Then the 'writer' process should experience timeout on next write
        When the 'reader' process reads one frame
        And the 'reader' process signals space available
        Then the 'writer' process should write successfully immediately

    Scenario: B6 - A slow reader loses nothing
        Given the 'reader' process creates buffer 'go-basic-slow' with metadata size '0' and payload size '4096'
        When the 'writer' process connects to buffer 'go-basic-slow'
        And the 'writer' process writes '12' frames of size '1000' as fast as possible
        And the 'reader' process reads frames with '10' ms delay between each read
        Then the 'reader' process should have read '12' frames
        And the 'reader' process should verify all frames have sequential sequence numbers starting from '1'
        And no sequence errors should have occurred
