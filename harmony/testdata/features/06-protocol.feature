Feature: Protocol details
    The wrap marker and the tail it wastes, the continuous free space, frame
    headers under corruption, the control block after each write and read,
    and where things lie in memory.

    Scenario: P1 - A wrap marker wastes the tail and the frame goes to the start
        Given the 'reader' process creates buffer 'go-waste' with metadata size '0' and payload size '10240'
        When the 'writer' process connects to buffer 'go-waste'
        And writes frame that leaves '100' bytes at end with 'incremental' pattern
        Then the 'reader' process should read frame with size '10124'
        And the 'reader' process signals space available
        When the 'writer' process attempts to write '200' byte frame with 'sequential' pattern
        Then the 'writer' process should write wrap marker at current position
        And should see payload_free_bytes reduced by wasted space
        And frame should be written at buffer start
        When the 'reader' process reads next frame
        Then the 'reader' process should detect wrap marker
        And should jump to buffer start
        And should read '200' byte frame successfully with 'sequential' pattern

    Scenario: P2 - Continuous free space, checked on the ring
        Given the 'reader' process creates buffer 'go-free-space' with specific configuration
        When the system tests continuous_free_bytes calculation with:
        | write_pos | read_pos | expected_result | scenario |
        | 5000 | 2000 | 5240 | write_pos > read_pos, the tail is larger |
        | 7000 | 4000 | 4000 | write_pos > read_pos, the start is larger: wrap |
        | 2000 | 5000 | 3000 | write_pos < read_pos |
        | 5000 | 5000 | 5240 | write_pos == read_pos, empty |
        | 0 | 0 | 10240 | both at start |
        | 5000 | 0 | 5240 | read_pos at start cannot wrap |
        Then the 'reader' process calculations should match specification

    Scenario: P3 - Corrupt frame headers are refused
        Given the 'reader' process creates buffer 'go-frame-corruption' with default config
        When the 'writer' process connects to buffer 'go-frame-corruption'
        And the 'writer' process writes valid frame
        Then test multiple corruption scenarios:
        | corruption_type | expected_result |
        | payload_size > remaining | reader handles gracefully |
        | sequence_number invalid | reader detects error |
        | header magic corrupted | reader rejects frame |
        And the 'reader' process should read frame with sequence '1' and size '1024'

    Scenario: P4 - The control block after each write and each read
        Given the 'reader' process creates buffer 'go-oieb' with default config
        When the 'writer' process connects to buffer 'go-oieb'
        And performs multiple write operations
        Then the 'writer' process should verify after each write:
        | field | condition |
        | payload_written_count | increments by 1 |
        | payload_free_bytes | decreases by frame size |
        | payload_write_pos | advances correctly |
        | all values | are 64-byte aligned |
        When the 'reader' process performs multiple read operations
        Then the 'reader' process should verify after each read:
        | field | condition |
        | payload_read_count | increments by 1 |
        | payload_free_bytes | increases by frame size |
        | payload_read_pos | advances correctly |

    Scenario: P5 - Aligned control fields, packed frames
        Given the 'reader' process creates buffer 'go-alignment' with default config
        Then the 'reader' process should verify OIEB starts at 64-byte aligned address
        And should verify metadata block starts at 64-byte aligned offset
        And should verify payload block starts at 64-byte aligned offset
        When the 'writer' process connects to buffer 'go-alignment'
        And writes various sized frames
        Then the 'writer' process should verify all data access respects alignment
