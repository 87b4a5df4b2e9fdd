Feature: Duplex channel
    A client sends requests over NAME_request and a server answers over
    NAME_response; the n-th response answers the n-th request.

    Scenario: D1 - Echo, in order
        Given the 'server' process creates immutable duplex channel 'go-duplex-echo' with default config
        And the 'server' process starts echo handler
        When the 'client' process creates duplex channel client 'go-duplex-echo'
        And the 'client' process sends '5' requests sequentially
        Then the 'client' process receives '5' responses in order
        And all '5' responses match their requests

    Scenario: D2 - Sizes up to a large request
        Given the 'server' process creates immutable duplex channel 'go-duplex-sizes' with metadata size '1024' and payload size '262144'
        And the 'server' process starts echo handler
        When the 'client' process creates duplex channel client 'go-duplex-sizes'
        And the 'client' process sends request with size '1'
        Then response should match request with size '1'
        When the 'client' process sends request with size '65536'
        Then response should match request with size '65536'

    Scenario: D3 - A transforming handler
        Given the 'server' process creates immutable duplex channel 'go-duplex-xor' with default config
        And the 'server' process starts handler that implements XOR with key '0xFF'
        When the 'client' process creates duplex channel client 'go-duplex-xor'
        And the 'client' process sends '4096' byte frame with test pattern
        Then response should contain XOR transformed data
        And the server handler returns new response data

    Scenario: D4 - The client notices a server that dies mid-request
        Given the 'server' process creates immutable duplex channel 'go-duplex-crash' with default config
        And the 'server' process starts handler that crashes after '50' ms
        When the 'client' process creates duplex channel client 'go-duplex-crash'
        And the 'client' process sends request of '512' bytes
        Then the 'server' process simulates crash during processing
        When the 'client' process waits for response with timeout '5' seconds
        Then the 'client' process should detect server death

    Scenario: D5 - Disposing the server, then reusing its name
        Given the 'server' process creates immutable duplex channel 'go-duplex-dispose' with default config
        And the 'server' process starts echo handler
        When the 'client' process creates duplex channel client 'go-duplex-dispose'
        And the 'client' process sends '4' requests
        And the 'client' process receives '2' responses
        Then the 'server' process disposes server while '2' responses pending
        When the 'client' process attempts to receive pending responses
        Then the 'client' process should receive exception on pending
        And all shared memory should be cleaned up
        When a new 'server' process creates immutable duplex channel 'go-duplex-dispose'
        Then the new server should reuse same channel name successfully
