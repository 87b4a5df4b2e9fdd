/*
 * zbpeer: a foreign ZeroBuffer v1 peer for interop tests.
 *
 * This program speaks the ZeroBuffer v1 shared-memory ring protocol (see
 * PROTOCOL.md) the way the existing C++ implementation does, using glibc's
 * POSIX shared memory and named semaphores, so that the Go implementation can
 * be tested against a peer that shares none of its code.
 *
 * Build: gcc -O2 -Wall -Wextra -pthread -o zbpeer zbpeer.c -lrt
 *
 * Usage:
 *   zbpeer reader NAME [--payload-size P] [--metadata-size M] [--frames N]
 *                      [--sizes a,b,c] [--expect-metadata STR] [--timeout-ms T]
 *   zbpeer writer NAME [--frames N] [--sizes a,b,c] [--metadata STR]
 *                      [--timeout-ms T]
 *
 * Frame k (0-based) has size sizes[k % len(sizes)] and byte i of its payload
 * is (k + i) % 256. Defaults: P 65536, M 1024, N 1, sizes 1024, T 5000.
 * T bounds the wait for any single frame (reader) or for space for any single
 * frame (writer), so a run of any length never fails just for being long.
 *
 * Output, on stdout, one line each (flushed):
 *   READY                                 reader: the buffer exists
 *   OK frames=N bytes=TOTAL               success
 *   OIEB free=.. wpos=.. rpos=.. wcount=.. rcount=.. size=..
 *                                         reader: the OIEB after the last frame
 *   ERROR ...                             failure
 * Exit status: 0 success, 1 data mismatch (payload, size or metadata),
 * 2 protocol, liveness or system error, 3 interrupted (SIGTERM/SIGINT),
 * 64 usage. The reader removes everything it created on every exit but
 * SIGKILL; the writer clears writer_pid on every exit but SIGKILL.
 *
 * Behaviour that is deliberately that of the existing peers:
 *   - the writer, when a frame does not fit before the end of the ring,
 *     writes a wrap marker only when at least 16 bytes remain, so it leaves
 *     1..15-byte "short tails" without a marker;
 *   - the reader does not tolerate a short tail: reaching one is an error
 *     ("ERROR short tail at R");
 *   - with --racy-free, the reader adds released bytes to payload_free_bytes
 *     as the C++ reader does: a plain load and store, not an atomic add.
 *     A writer's atomic subtract that lands between the two is lost and
 *     the field overstates the free space. (The C++ reader compiles its
 *     `+=` to one unlocked add; here the load and the store are a few
 *     hundred cycles apart, so that a test meets in seconds the lost
 *     update the real peer meets every few thousand frames under load.)
 *   - with --release-late, the reader moves read_pos and read_count as
 *     soon as it has a frame's header, and returns the frame's space and
 *     posts sem-r only after checking its payload, as the C++ reader does
 *     (its frames return their space when the caller drops them): the
 *     positions then run ahead of the space returned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- layout */

#define OIEB_SIZE 128u
#define HEADER_SIZE 16u
#define BLOCK_ALIGNMENT 64u
#define LOCK_DIR "/tmp/zerobuffer"
#define SLICE_MS 100

struct oieb {
	uint32_t oieb_size;              /* 0x00 */
	uint32_t version;                /* 0x04: bytes major, minor, patch, reserved */
	uint64_t metadata_size;          /* 0x08 */
	uint64_t metadata_free_bytes;    /* 0x10 */
	uint64_t metadata_written_bytes; /* 0x18 */
	uint64_t payload_size;           /* 0x20 */
	uint64_t payload_free_bytes;     /* 0x28 */
	uint64_t payload_write_pos;      /* 0x30 */
	uint64_t payload_read_pos;       /* 0x38 */
	uint64_t payload_written_count;  /* 0x40 */
	uint64_t payload_read_count;     /* 0x48 */
	uint64_t writer_pid;             /* 0x50 */
	uint64_t reader_pid;             /* 0x58 */
	uint64_t reserved[4];            /* 0x60..0x7f */
};

_Static_assert(sizeof(struct oieb) == OIEB_SIZE, "OIEB must be 128 bytes");
_Static_assert(offsetof(struct oieb, payload_free_bytes) == 0x28, "layout");
_Static_assert(offsetof(struct oieb, writer_pid) == 0x50, "layout");
_Static_assert(offsetof(struct oieb, reader_pid) == 0x58, "layout");
_Static_assert(offsetof(struct oieb, reserved) == 0x60, "layout");

/* Every OIEB field is shared with the other process: every access is atomic. */
#define LD(f) __atomic_load_n(&g.oieb->f, __ATOMIC_SEQ_CST)
#define ST(f, v) __atomic_store_n(&g.oieb->f, (v), __ATOMIC_SEQ_CST)
#define ADD(f, v) __atomic_fetch_add(&g.oieb->f, (v), __ATOMIC_SEQ_CST)
#define SUB(f, v) __atomic_fetch_sub(&g.oieb->f, (v), __ATOMIC_SEQ_CST)

typedef unsigned long long ull;

/* ----------------------------------------------------------------- state */

enum role { ROLE_NONE, ROLE_READER, ROLE_WRITER };

static struct {
	enum role role;
	char shm_name[300];
	char semw_name[300];
	char semr_name[300];
	char lock_path[400];

	int lock_fd;
	int own_lock;   /* we hold the flock and must unlink the lock file */
	int own_shm;    /* we created the segment and must unlink it */
	int own_semw;   /* we created sem-w and must unlink it */
	int own_semr;   /* we created sem-r and must unlink it */
	int own_pid;    /* we recorded our PID in the OIEB */

	void *map;
	size_t map_len;
	struct oieb *oieb;
	sem_t *semw;
	sem_t *semr;
} g = {.lock_fd = -1, .semw = SEM_FAILED, .semr = SEM_FAILED};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* ------------------------------------------------------------- utilities */

static void cleanup(void)
{
	if (g.oieb != NULL && g.own_pid) {
		uint64_t me = (uint64_t)getpid();
		if (g.role == ROLE_READER) {
			ST(reader_pid, 0);
		} else {
			/* Clear writer_pid only if it is still ours. */
			__atomic_compare_exchange_n(&g.oieb->writer_pid, &me, 0, 0,
			                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		}
		g.own_pid = 0;
	}
	if (g.map != NULL) {
		munmap(g.map, g.map_len);
		g.map = NULL;
		g.oieb = NULL;
	}
	if (g.semw != SEM_FAILED) {
		sem_close(g.semw);
		g.semw = SEM_FAILED;
	}
	if (g.semr != SEM_FAILED) {
		sem_close(g.semr);
		g.semr = SEM_FAILED;
	}
	if (g.own_shm) {
		shm_unlink(g.shm_name);
		g.own_shm = 0;
	}
	if (g.own_semw) {
		sem_unlink(g.semw_name);
		g.own_semw = 0;
	}
	if (g.own_semr) {
		sem_unlink(g.semr_name);
		g.own_semr = 0;
	}
	if (g.own_lock) {
		unlink(g.lock_path);
		g.own_lock = 0;
	}
	if (g.lock_fd >= 0) {
		close(g.lock_fd); /* releases the flock */
		g.lock_fd = -1;
	}
}

__attribute__((format(printf, 2, 3), noreturn))
static void die(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("ERROR ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	cleanup();
	exit(code);
}

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void check_stop(void)
{
	if (g_stop)
		die(3, "interrupted");
}

/* A PID is alive when kill(pid, 0) succeeds (or fails only for lack of
 * permission). 0 and values that are not a valid pid_t are not alive; the
 * latter are never passed to kill(), which would treat them as groups. */
static int pid_alive(uint64_t pid)
{
	if (pid == 0 || pid > (uint64_t)INT_MAX)
		return 0;
	if (kill((pid_t)pid, 0) == 0)
		return 1;
	return errno == EPERM;
}

/* Waits at most ms milliseconds on s. Returns 1 when a post was consumed,
 * 0 on timeout. Dies on a signal or a broken semaphore. */
static int sem_wait_slice(sem_t *s, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	for (;;) {
		check_stop();
		if (sem_timedwait(s, &ts) == 0)
			return 1;
		if (errno == EINTR)
			continue;
		if (errno == ETIMEDOUT)
			return 0;
		die(2, "sem_timedwait: %s", strerror(errno));
	}
}

static uint64_t round_up(uint64_t n)
{
	return (n + BLOCK_ALIGNMENT - 1) & ~(uint64_t)(BLOCK_ALIGNMENT - 1);
}

static unsigned char pattern(uint64_t frame, uint64_t i)
{
	return (unsigned char)((frame + i) % 256);
}

/* ------------------------------------------------------------- arguments */

struct args {
	const char *name;
	uint64_t payload_size;
	uint64_t metadata_size;
	uint64_t frames;
	uint64_t *sizes;
	size_t nsizes;
	int sizes_owned;
	const char *metadata;        /* writer: --metadata */
	const char *expect_metadata; /* reader: --expect-metadata */
	int64_t timeout_ms;
	int racy_free;    /* reader: --racy-free */
	int release_late; /* reader: --release-late */
};

__attribute__((noreturn))
static void usage(const char *msg)
{
	fprintf(stdout, "ERROR usage: %s\n", msg);
	fputs("usage: zbpeer reader NAME [--payload-size P] [--metadata-size M] "
	      "[--frames N] [--sizes a,b,c] [--expect-metadata STR] "
	      "[--timeout-ms T] [--racy-free] [--release-late]\n"
	      "       zbpeer writer NAME [--frames N] [--sizes a,b,c] "
	      "[--metadata STR] [--timeout-ms T]\n",
	      stderr);
	fflush(stdout);
	exit(64);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	if (s == NULL || *s == '\0' || *s == '-')
		usage(opt);
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		usage(opt);
	return (uint64_t)v;
}

static void parse_sizes(struct args *a, const char *s)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		if (*p == ',')
			n++;
	if (a->sizes_owned)
		free(a->sizes);
	a->sizes = calloc(n, sizeof(uint64_t));
	a->sizes_owned = 1;
	if (a->sizes == NULL)
		usage("out of memory");
	char *copy = strdup(s);
	if (copy == NULL)
		usage("out of memory");
	size_t i = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v = parse_u64("--sizes", tok);
		if (v == 0)
			usage("--sizes: a frame size must be at least 1");
		a->sizes[i++] = v;
	}
	free(copy);
	if (i != n)
		usage("--sizes: empty element");
	a->nsizes = n;
}

static void parse_args(struct args *a, int argc, char **argv, int reader)
{
	static uint64_t default_size = 1024;
	a->payload_size = 65536;
	a->metadata_size = 1024;
	a->frames = 1;
	a->sizes = NULL;
	a->nsizes = 0;
	a->sizes_owned = 0;
	a->metadata = NULL;
	a->expect_metadata = NULL;
	a->timeout_ms = 5000;
	a->racy_free = 0;
	a->release_late = 0;
	if (argc < 3)
		usage("missing NAME");
	a->name = argv[2];
	if (a->name[0] == '\0' || strchr(a->name, '/') != NULL ||
	    strlen(a->name) > 200)
		usage("NAME must be 1..200 characters without '/'");
	for (int i = 3; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (reader && strcmp(o, "--racy-free") == 0) {
			a->racy_free = 1;
			continue;
		}
		if (reader && strcmp(o, "--release-late") == 0) {
			a->release_late = 1;
			continue;
		}
		if (v == NULL)
			usage("option without a value");
		if (reader && strcmp(o, "--payload-size") == 0)
			a->payload_size = parse_u64(o, v);
		else if (reader && strcmp(o, "--metadata-size") == 0)
			a->metadata_size = parse_u64(o, v);
		else if (strcmp(o, "--frames") == 0)
			a->frames = parse_u64(o, v);
		else if (strcmp(o, "--sizes") == 0)
			parse_sizes(a, v);
		else if (reader && strcmp(o, "--expect-metadata") == 0)
			a->expect_metadata = v;
		else if (!reader && strcmp(o, "--metadata") == 0)
			a->metadata = v;
		else if (strcmp(o, "--timeout-ms") == 0)
			a->timeout_ms = (int64_t)parse_u64(o, v);
		else
			usage(o);
		i++;
	}
	if (a->sizes == NULL) {
		a->sizes = &default_size;
		a->nsizes = 1;
	}
	snprintf(g.shm_name, sizeof g.shm_name, "/%s", a->name);
	snprintf(g.semw_name, sizeof g.semw_name, "/sem-w-%s", a->name);
	snprintf(g.semr_name, sizeof g.semr_name, "/sem-r-%s", a->name);
	snprintf(g.lock_path, sizeof g.lock_path, "%s/%s.lock", LOCK_DIR, a->name);
}

/* ---------------------------------------------------------------- reader */

/* Returns n released bytes to payload_free_bytes: atomically, or (racy)
 * as the C++ reader does, a plain load and a plain store with a gap. */
static void free_bytes_add(uint64_t n, int racy)
{
	if (!racy) {
		ADD(payload_free_bytes, n);
		return;
	}
	volatile uint64_t *f = &g.oieb->payload_free_bytes;
	uint64_t v = *f;
	for (volatile int i = 0; i < 200; i++)
		;
	*f = v + n;
}

/* Reads the frame header at ring offset r into *size and *seq. Like the
 * C++ reader, a tail too short for a header is not tolerated. */
static void read_header(const unsigned char *ring, uint64_t psize, uint64_t r,
                        uint64_t *size, uint64_t *seq)
{
	if (r > psize || psize - r < HEADER_SIZE)
		die(2, "short tail at %llu (payload_size %llu, tail %llu)", (ull)r,
		    (ull)psize, (ull)(r <= psize ? psize - r : 0));
	memcpy(size, ring + r, 8);
	memcpy(seq, ring + r + 8, 8);
}

static int run_reader(struct args *a)
{
	uint64_t M = round_up(a->metadata_size);
	uint64_t P = round_up(a->payload_size);
	if (P == 0)
		usage("--payload-size must be at least 1");
	size_t mlen = a->expect_metadata ? strlen(a->expect_metadata) : 0;

	g.role = ROLE_READER;

	/* Lock file, held for the reader's lifetime. */
	if (mkdir(LOCK_DIR, 0777) != 0 && errno != EEXIST)
		die(2, "mkdir %s: %s", LOCK_DIR, strerror(errno));
	g.lock_fd = open(g.lock_path, O_CREAT | O_RDWR | O_CLOEXEC, 0666);
	if (g.lock_fd < 0)
		die(2, "open %s: %s", g.lock_path, strerror(errno));
	if (flock(g.lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			die(2, "reader already connected");
		die(2, "flock %s: %s", g.lock_path, strerror(errno));
	}
	g.own_lock = 1;

	/* Shared memory. Like the C++ reader: if the name exists (we hold
	 * the lock, so it is stale), remove it with its semaphores and retry
	 * once. */
	size_t total = (size_t)(OIEB_SIZE + M + P);
	int fd = shm_open(g.shm_name, O_CREAT | O_EXCL | O_RDWR, 0666);
	if (fd < 0 && errno == EEXIST) {
		fprintf(stderr, "zbpeer: removing stale %s\n", g.shm_name);
		shm_unlink(g.shm_name);
		sem_unlink(g.semw_name);
		sem_unlink(g.semr_name);
		fd = shm_open(g.shm_name, O_CREAT | O_EXCL | O_RDWR, 0666);
	}
	if (fd < 0)
		die(2, "shm_open %s: %s", g.shm_name, strerror(errno));
	g.own_shm = 1;
	if (ftruncate(fd, (off_t)total) != 0) {
		int e = errno;
		close(fd);
		die(2, "ftruncate: %s", strerror(e));
	}
	void *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (m == MAP_FAILED)
		die(2, "mmap: %s", strerror(e));
	g.map = m;
	g.map_len = total;
	g.oieb = (struct oieb *)m;

	/* OIEB, reader_pid last. */
	ST(oieb_size, OIEB_SIZE);
	ST(version, 1u); /* bytes 1,0,0,0 little-endian */
	ST(metadata_size, M);
	ST(metadata_free_bytes, M);
	ST(metadata_written_bytes, 0);
	ST(payload_size, P);
	ST(payload_free_bytes, P);
	ST(payload_write_pos, 0);
	ST(payload_read_pos, 0);
	ST(payload_written_count, 0);
	ST(payload_read_count, 0);
	ST(writer_pid, 0);
	for (int i = 0; i < 4; i++)
		__atomic_store_n(&g.oieb->reserved[i], 0, __ATOMIC_SEQ_CST);

	g.semw = sem_open(g.semw_name, O_CREAT | O_EXCL, 0666, 0);
	if (g.semw == SEM_FAILED)
		die(2, "sem_open %s: %s", g.semw_name, strerror(errno));
	g.own_semw = 1;
	g.semr = sem_open(g.semr_name, O_CREAT | O_EXCL, 0666, 0);
	if (g.semr == SEM_FAILED)
		die(2, "sem_open %s: %s", g.semr_name, strerror(errno));
	g.own_semr = 1;

	ST(reader_pid, (uint64_t)getpid());
	g.own_pid = 1;
	say("READY");

	const unsigned char *meta = (const unsigned char *)m + OIEB_SIZE;
	const unsigned char *ring = meta + M;
	uint64_t R = 0, expected = 1, bytes = 0;
	int seen_writer = 0;

	for (uint64_t k = 0; k < a->frames; k++) {
		/* 1. Wait for a frame, in bounded slices. */
		int64_t deadline = mono_ms() + a->timeout_ms;
		while (!sem_wait_slice(g.semw, SLICE_MS)) {
			uint64_t wp = LD(writer_pid);
			if (LD(payload_written_count) != 0)
				seen_writer = 1;
			if (wp != 0) {
				seen_writer = 1;
				if (!pid_alive(wp))
					die(2, "writer dead (pid %llu) before frame %llu",
					    (ull)wp, (ull)k);
			} else if (seen_writer &&
			           LD(payload_written_count) == LD(payload_read_count)) {
				die(2, "writer closed after %llu frames", (ull)k);
			}
			if (mono_ms() >= deadline)
				die(2, "timeout waiting for frame %llu", (ull)k);
		}
		atomic_thread_fence(memory_order_acquire);

		/* 2. Header, following a wrap marker. */
		uint64_t size, seq;
		read_header(ring, P, R, &size, &seq);
		if (size == 0) {
			free_bytes_add(P - R, a->racy_free);
			R = 0;
			ST(payload_read_pos, R);
			ADD(payload_read_count, 1);
			read_header(ring, P, R, &size, &seq);
		}

		/* 3. Checks. */
		if (seq != expected)
			die(2, "sequence expected %llu got %llu", (ull)expected,
			    (ull)seq);
		if (size == 0)
			die(2, "corrupt frame %llu: payload_size 0 at %llu", (ull)k,
			    (ull)R);
		if (size > P || R + HEADER_SIZE + size > P)
			die(2, "corrupt frame %llu: payload_size %llu at %llu exceeds "
			    "ring of %llu", (ull)k, (ull)size, (ull)R, (ull)P);

		/* --release-late: the position moves now, the space later. */
		uint64_t T = HEADER_SIZE + size;
		if (a->release_late) {
			uint64_t next = R + T == P ? 0 : R + T;
			ST(payload_read_pos, next);
			ADD(payload_read_count, 1);
		}

		/* Verify the payload. */
		uint64_t want = a->sizes[k % a->nsizes];
		if (size != want)
			die(1, "verify frame %llu size got %llu want %llu", (ull)k,
			    (ull)size, (ull)want);
		const unsigned char *p = ring + R + HEADER_SIZE;
		for (uint64_t i = 0; i < size; i++) {
			if (p[i] != pattern(k, i))
				die(1, "verify frame %llu byte %llu got %u want %u", (ull)k,
				    (ull)i, p[i], pattern(k, i));
		}
		bytes += size;
		expected++;

		/* Metadata, once, after the first frame. */
		if (k == 0 && a->expect_metadata != NULL) {
			uint64_t mw = LD(metadata_written_bytes);
			uint64_t mf = LD(metadata_free_bytes);
			uint64_t L = 0;
			if (mw == 0)
				die(1, "metadata: none written");
			if (M < 8)
				die(1, "metadata: block of %llu bytes", (ull)M);
			memcpy(&L, meta, 8);
			if (mw != 8 + L || L > M - 8)
				die(1, "metadata: written_bytes %llu, length prefix %llu",
				    (ull)mw, (ull)L);
			if (mf != M - mw)
				die(1, "metadata: free_bytes %llu, want %llu", (ull)mf,
				    (ull)(M - mw));
			if (L != mlen || memcmp(meta + 8, a->expect_metadata, mlen) != 0)
				die(1, "metadata: got %llu bytes \"%.*s\", want \"%s\"",
				    (ull)L, (int)(L < 200 ? L : 200), meta + 8,
				    a->expect_metadata);
		}

		/* 4-5. Release. */
		free_bytes_add(T, a->racy_free);
		R += T;
		if (R == P)
			R = 0;
		if (!a->release_late) {
			ST(payload_read_pos, R);
			ADD(payload_read_count, 1);
		}
		if (sem_post(g.semr) != 0)
			die(2, "sem_post: %s", strerror(errno));
	}

	say("OK frames=%llu bytes=%llu", (ull)a->frames, (ull)bytes);
	say("OIEB free=%llu wpos=%llu rpos=%llu wcount=%llu rcount=%llu size=%llu",
	    (ull)LD(payload_free_bytes), (ull)LD(payload_write_pos),
	    (ull)LD(payload_read_pos), (ull)LD(payload_written_count),
	    (ull)LD(payload_read_count), (ull)LD(payload_size));
	cleanup();
	return 0;
}

/* ---------------------------------------------------------------- writer */

static int run_writer(struct args *a)
{
	g.role = ROLE_WRITER;

	int fd = shm_open(g.shm_name, O_RDWR, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			die(2, "not found");
		die(2, "shm_open %s: %s", g.shm_name, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		die(2, "fstat: %s", strerror(e));
	}
	if ((uint64_t)st.st_size < OIEB_SIZE) {
		close(fd);
		die(2, "segment of %lld bytes is too small", (long long)st.st_size);
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	               MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (m == MAP_FAILED)
		die(2, "mmap: %s", strerror(e));
	g.map = m;
	g.map_len = (size_t)st.st_size;
	g.oieb = (struct oieb *)m;

	if (LD(oieb_size) != OIEB_SIZE)
		die(2, "incompatible: oieb_size %u", LD(oieb_size));
	if ((LD(version) & 0xffu) != 1)
		die(2, "incompatible: major version %u", LD(version) & 0xffu);
	uint64_t M = LD(metadata_size), P = LD(payload_size);
	if (M > g.map_len || P > g.map_len ||
	    OIEB_SIZE + M + P > (uint64_t)g.map_len)
		die(2, "corrupt: segment of %zu bytes, metadata %llu, payload %llu",
		    g.map_len, (ull)M, (ull)P);
	if (!pid_alive(LD(reader_pid)))
		die(2, "no active reader (reader_pid %llu)", (ull)LD(reader_pid));
	uint64_t old = LD(writer_pid);
	if (old != 0 && pid_alive(old))
		die(2, "writer already connected (pid %llu)", (ull)old);

	g.semw = sem_open(g.semw_name, 0);
	if (g.semw == SEM_FAILED)
		die(2, "sem_open %s: %s", g.semw_name, strerror(errno));
	g.semr = sem_open(g.semr_name, 0);
	if (g.semr == SEM_FAILED)
		die(2, "sem_open %s: %s", g.semr_name, strerror(errno));

	/* Claim the writer slot (compare-and-swap, so that two writers
	 * racing cannot both win). */
	if (!__atomic_compare_exchange_n(&g.oieb->writer_pid, &old,
	                                 (uint64_t)getpid(), 0, __ATOMIC_SEQ_CST,
	                                 __ATOMIC_SEQ_CST))
		die(2, "writer already connected (pid %llu)", (ull)old);
	g.own_pid = 1;

	unsigned char *meta = (unsigned char *)m + OIEB_SIZE;
	unsigned char *ring = meta + M;

	if (a->metadata != NULL) {
		uint64_t L = strlen(a->metadata);
		if (LD(metadata_written_bytes) != 0)
			die(2, "metadata already written");
		if (M < 8 || L > M - 8)
			die(2, "metadata of %llu bytes too large for block of %llu",
			    (ull)L, (ull)M);
		memcpy(meta, &L, 8);
		memcpy(meta + 8, a->metadata, L);
		ST(metadata_written_bytes, 8 + L);
		ST(metadata_free_bytes, M - (8 + L));
	}

	uint64_t W = LD(payload_write_pos), seq = 1, bytes = 0;
	for (uint64_t k = 0; k < a->frames; k++) {
		check_stop();
		uint64_t size = a->sizes[k % a->nsizes];
		uint64_t T = HEADER_SIZE + size;
		if (size > P || T > P)
			die(2, "frame too large: %llu bytes in a ring of %llu",
			    (ull)size, (ull)P);
		/* Like the C++ writer: the reader must be alive at every write. */
		if (!pid_alive(LD(reader_pid)))
			die(2, "reader dead before frame %llu", (ull)k);

		/* 1. Space needed. W == P is possible (a frame ended exactly at
		 * the end); then space_to_end is 0 and we wrap without marker. */
		uint64_t space_to_end = P - W;
		uint64_t needed = space_to_end >= T ? T : space_to_end + T;

		/* 2. Wait for it, in bounded slices. */
		int64_t deadline = mono_ms() + a->timeout_ms;
		while (LD(payload_free_bytes) < needed) {
			if (!pid_alive(LD(reader_pid)))
				die(2, "reader dead while waiting for space for frame %llu",
				    (ull)k);
			if (mono_ms() >= deadline)
				die(2, "buffer full: frame %llu needs %llu bytes, %llu free",
				    (ull)k, (ull)needed, (ull)LD(payload_free_bytes));
			sem_wait_slice(g.semr, SLICE_MS);
		}
		atomic_thread_fence(memory_order_acquire);

		/* 3. Wrap, with a marker only when a header fits. */
		if (space_to_end < T) {
			if (space_to_end >= HEADER_SIZE) {
				memset(ring + W, 0, HEADER_SIZE);
				ADD(payload_written_count, 1);
			}
			SUB(payload_free_bytes, space_to_end);
			W = 0;
			ST(payload_write_pos, W);
		}

		/* 4. Header and payload, then publish. */
		memcpy(ring + W, &size, 8);
		memcpy(ring + W + 8, &seq, 8);
		unsigned char *p = ring + W + HEADER_SIZE;
		for (uint64_t i = 0; i < size; i++)
			p[i] = pattern(k, i);
		W += T;
		ST(payload_write_pos, W);
		SUB(payload_free_bytes, T);
		ADD(payload_written_count, 1);
		if (sem_post(g.semw) != 0)
			die(2, "sem_post: %s", strerror(errno));
		seq++;
		bytes += size;
	}

	cleanup(); /* writer_pid = 0 */
	say("OK frames=%llu bytes=%llu", (ull)a->frames, (ull)bytes);
	return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: waits return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2)
		usage("missing command");
	/* static: reachable from here until exit, whichever path exits */
	static struct args a;
	int reader = strcmp(argv[1], "reader") == 0;
	if (!reader && strcmp(argv[1], "writer") != 0)
		usage("unknown command");
	parse_args(&a, argc, argv, reader);
	int rc = reader ? run_reader(&a) : run_writer(&a);
	if (a.nsizes != 0 && a.sizes != NULL && a.sizes_owned)
		free(a.sizes);
	return rc;
}
