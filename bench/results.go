package bench

// What `zerobuffer bench` measured: the whole of results.json. Figures
// that could not be computed (a floor that was not measured) are 0 and
// are left out of the JSON and shown as "-" in the tables.

// benchResults is everything one run measured.
type benchResults struct {
	Tool            string           `json:"tool"`
	StartedAt       string           `json:"started_at"`
	DurationSeconds float64          `json:"duration_seconds"`
	Machine         machineInfo      `json:"machine"`
	Settings        benchSettings    `json:"settings"`
	Floors          floorResults     `json:"floors"`
	PingPong        []pingPongResult `json:"pingpong"`
	Stream          []streamResult   `json:"stream"`
	Relay           []relayResult    `json:"relay"`
	RelayZeroCopy   []relayResult    `json:"relay_zero_copy"` // the relay with process 1 filling A in place
	RelayPacedCopy  []pacedCopy      `json:"relay_paced_copy"`
	Idle            []idleResult     `json:"idle"`
	OpenLoop        []openLoopResult `json:"openloop"`
	Wake            []wakeResult     `json:"wake"`
	SameCPU         *sameCPURun      `json:"same_cpu,omitempty"` // --pin=both: floors and ping-pongs on one CPU
	Goals           []goalResult     `json:"goals"`
	Errors          []string         `json:"errors"`
}

// benchSettings are the options the run used.
type benchSettings struct {
	Quick            bool     `json:"quick"`
	Stages           []string `json:"stages"`
	Notifiers        []string `json:"notifiers"`
	PingPongSizes    []int    `json:"pingpong_sizes"`
	StreamSizes      []int    `json:"stream_sizes"`
	FloorSeconds     float64  `json:"floor_seconds"`
	WarmupSeconds    float64  `json:"warmup_seconds"`
	PingPongSeconds  float64  `json:"pingpong_seconds"`
	StreamSeconds    float64  `json:"stream_seconds"`
	RelayNotifiers   []string `json:"relay_notifiers"`
	RelayRates       []int    `json:"relay_fps"`
	RelayWarmup      int      `json:"relay_warmup_frames"`
	RelayFrames      int      `json:"relay_frames"`
	RelayFrameBytes  int      `json:"relay_frame_bytes"`
	RelayBufferBytes uint64   `json:"relay_buffer_bytes"`
	IdleSeconds      float64  `json:"idle_seconds"`
	Pin              string   `json:"pin"` // pair, same, none or both
	Rounds           int      `json:"pingpong_rounds"`
	latencySettings           // the open-loop and wake stages'
}

type floorResults struct {
	PingPong []floorResult  `json:"pingpong"`
	Memcpy   []memcpyResult `json:"memcpy"`
}

// floorResult is a raw mechanism's round trip between two processes.
type floorResult struct {
	Mechanism string    `json:"mechanism"` // spin, futex, semaphore
	Latency   Latency   `json:"latency"`
	Placement Placement `json:"placement"`
}

// memcpyResult is a warm copy into a prefaulted shared mapping.
type memcpyResult struct {
	FrameBytes   int     `json:"frame_bytes"`
	NsPerCopy    float64 `json:"ns_per_copy"`
	CopiesPerSec float64 `json:"copies_per_second"`
	GBPerSec     float64 `json:"gb_per_second"`
}

// pingPongResult is a round trip through two rings.
type pingPongResult struct {
	Notifier     string  `json:"notifier"`
	FrameBytes   int     `json:"frame_bytes"`
	Latency      Latency `json:"latency"`
	Floor        string  `json:"floor"` // the mechanism it is compared with
	FloorP50Ns   float64 `json:"floor_p50_ns,omitempty"`
	FloorP99Ns   float64 `json:"floor_p99_ns,omitempty"`
	P50OverFloor float64 `json:"p50_over_floor,omitempty"`
	P99OverFloor float64 `json:"p99_over_floor,omitempty"`
	// With interleaved rounds (--rounds): the ratios above are the
	// medians of the rounds', FloorP50Ns the median of the floor's rounds.
	P50OverFloorMin  float64      `json:"p50_over_floor_min,omitempty"`
	P50OverFloorMax  float64      `json:"p50_over_floor_max,omitempty"`
	Placement        Placement    `json:"placement"` // of the ring, over all rounds
	PlacementDiffers bool         `json:"placement_differs_from_floor"`
	Unstable         bool         `json:"unstable_rounds"` // rounds' p50 ratios more than unstableSpread apart: no verdict
	PlacementNote    string       `json:"placement_note,omitempty"`
	Rounds           []ratioRound `json:"rounds,omitempty"`
	P50OverSemFloor  float64      `json:"p50_over_semaphore_floor,omitempty"` // semaphore only
	P99OverSemFloor  float64      `json:"p99_over_semaphore_floor,omitempty"`
	PingCPUNsPerRT   float64      `json:"ping_cpu_ns_per_round_trip"`
	EchoCPUNsPerRT   float64      `json:"echo_cpu_ns_per_round_trip"`
	Counters         *OpCounters  `json:"counters,omitempty"` // both processes, per round trip
}

// streamResult is a writer process streaming into a reader process.
type streamResult struct {
	Notifier               string    `json:"notifier"`
	FrameBytes             int       `json:"frame_bytes"`
	Frames                 int64     `json:"frames"`
	Seconds                float64   `json:"seconds"`
	FramesPerSec           float64   `json:"frames_per_second"`
	GBPerSec               float64   `json:"gb_per_second"`
	MemcpyGBPerSec         float64   `json:"memcpy_gb_per_second,omitempty"`
	OverMemcpy             float64   `json:"ratio_to_memcpy,omitempty"`
	ReaderCPUSecPerMFrames float64   `json:"reader_cpu_seconds_per_million_frames"`
	WriterCPUSecPerMFrames float64   `json:"writer_cpu_seconds_per_million_frames"`
	Placement              Placement `json:"placement"` // this process: the reader; the other: the writer

	Counters *OpCounters `json:"counters,omitempty"` // both processes, per frame
}

// relayResult is the relay round trip at one rate: copying (process 1
// writes the whole frame into A, the relay copies it into B: two copies)
// or zero-copy (process 1 reserves the frame in A and stamps it in place:
// one copy, the relay's).
type relayResult struct {
	Notifier       string    `json:"notifier"`
	ZeroCopy       bool      `json:"zero_copy"`
	FPS            int       `json:"fps"`
	SentFPS        float64   `json:"sent_fps"`
	FrameBytes     int       `json:"frame_bytes"`
	Latency        Latency   `json:"latency"`
	FloorMechanism string    `json:"floor_mechanism"`
	FloorCopyNs    float64   `json:"floor_copy_ns,omitempty"` // one warm copy of the frame
	FloorWakeNs    float64   `json:"floor_wake_ns,omitempty"` // one wake-up: half the floor's p50 round trip
	FloorNs        float64   `json:"floor_ns,omitempty"`      // two copies (zero-copy: one) plus two wake-ups
	P50OverFloor   float64   `json:"p50_over_floor,omitempty"`
	Legs           relayLegs `json:"legs"`
	// The same floor with copies paced at the relay's rate (see pacedCopy):
	// the relay's processes copy after idling, not back to back.
	PacedCopyNs       float64 `json:"paced_copy_ns,omitempty"`
	PacedFloorNs      float64 `json:"paced_floor_ns,omitempty"`
	P50OverPacedFloor float64 `json:"p50_over_paced_floor,omitempty"`
	// Where process 1 (this) and the relay ran during the rate; no
	// verdict when that differs from where the floor's two ran.
	Placement        Placement `json:"placement"`
	PlacementDiffers bool      `json:"placement_differs_from_floor"`
	PlacementNote    string    `json:"placement_note,omitempty"`
}

// pacedCopy is one copy of the relay's frame, paced at a rate, no ring.
type pacedCopy struct {
	FPS   int     `json:"fps"`
	P50Ns float64 `json:"p50_ns"`
}

// idleResult is what a reader waiting on an empty ring costs.
type idleResult struct {
	Notifier   string  `json:"notifier"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent_of_a_core"`
	Note       string  `json:"note,omitempty"`
	// Where the waiting reader (the other process) and the silent writer
	// (this) were seen running: a sleeping reader is seen on no CPU.
	Placement Placement `json:"placement"`
}

// goalResult is one performance goal checked against one figure. Goals
// are figures: they never change the exit status.
type goalResult struct {
	Goal    string  `json:"goal"`    // which goal
	Subject string  `json:"subject"` // which figure, e.g. "spin 64 B"
	Metric  string  `json:"metric"`
	Value   float64 `json:"value"`
	Op      string  `json:"op"` // "<=" or ">="
	Target  float64 `json:"target"`
	Pass    bool    `json:"pass"`
	By      float64 `json:"by"` // |value/target − 1|: headroom when passed, shortfall when missed
	Verdict string  `json:"verdict"`

	key rowKey // the row of the stage table it belongs to
}

// rowKey identifies a measurement across tables, CSV rows and goals.
type rowKey struct {
	stage string
	name  string
	bytes int
	fps   int
}
