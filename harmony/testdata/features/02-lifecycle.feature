Feature: Process lifecycle
    Peers die; the survivor notices, and a new reader replaces a dead one.

    Background:
        Given we run in harmony

    Scenario: L1 - The reader notices a killed writer
        Given the 'reader' process creates buffer 'go-life-writer' with metadata size '0' and payload size '8192'
        And the 'writer' process connects to buffer 'go-life-writer'
        And the 'writer' process writes frame with data 'before'
        Then the 'reader' process should read frame with data 'before'
        When the 'writer' process is killed
        Then wait for '1' seconds
        And the 'reader' process should timeout or detect writer death on next read

    Scenario: L2 - The writer notices a crashed reader
        Given the 'reader' process creates buffer 'go-life-reader' with metadata size '0' and payload size '8192'
        And the 'writer' process connects to buffer 'go-life-reader'
        When the 'writer' process fills buffer completely
        And the 'reader' process crashes
        Then the 'writer' process should detect reader death on next write

    Scenario: L3 - A new reader replaces a crashed one
        Given the 'reader' process creates buffer 'go-life-replace' with metadata size '0' and payload size '8192'
        And the 'writer' process connects to buffer 'go-life-replace'
        And the 'writer' process writes frame with sequence '1'
        Then the 'reader' process should read frame with sequence '1'
        When the 'reader' process crashes
        And a new 'reader' process attempts to create buffer 'go-life-replace' with metadata size '0' and payload size '8192'
        Then the new reader should clean up stale resources
        And the new reader should create fresh buffer successfully
        When the 'writer' process detects reader death and reconnects to buffer 'go-life-replace'
        And the 'writer' process writes frame with sequence '1'
        Then the 'reader' process should read frame with sequence '1'

    Scenario: L4 - A second writer is turned away
        Given the 'reader' process creates buffer 'go-life-two' with metadata size '0' and payload size '8192'
        And the 'writer' process connects to buffer 'go-life-two'
        When a second 'writer' process attempts to connect to buffer 'go-life-two'
        Then the connection should fail with writer exists error
