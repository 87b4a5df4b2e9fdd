Feature: Duplex channel
    A client sends requests over NAME_request and a server answers over
    NAME_response.

    Scenario: D1 - Echo
        Given the 'server' process creates immutable duplex channel 'go-duplex-echo' with default config
        And the 'server' process starts echo handler
        When the 'client' process creates duplex channel client 'go-duplex-echo'
        And the 'client' process sends '5' requests sequentially
        Then the 'client' process receives '5' responses in order
        And all '5' responses match their requests
