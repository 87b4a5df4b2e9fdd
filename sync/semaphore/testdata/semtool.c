/*
 * semtool: drive glibc's named semaphores from the command line, so that the
 * Go tests can check interoperability with the real sem_open/sem_post/
 * sem_wait. NAME is given without the leading slash, as in the Go API.
 *
 *   semtool create NAME VALUE [MODE]      sem_open(O_CREAT|O_EXCL), MODE octal (default 600)
 *   semtool post NAME [COUNT]             sem_post COUNT times (default 1)
 *   semtool wait NAME TIMEOUT_MS [COUNT]  COUNT waits (default 1), each sem_timedwait
 *                                         (TIMEOUT_MS < 0: sem_wait); prints WOKE or TIMEOUT
 *   semtool trywait NAME                  prints TAKEN or EMPTY
 *   semtool getvalue NAME                 prints the value
 *   semtool unlink NAME                   sem_unlink
 *   semtool pingpong PING PONG COUNT TIMEOUT_MS
 *                                         COUNT times: wait PING, post PONG; prints DONE
 *
 * Exit codes: 0 success, 1 usage or unexpected error, 2 TIMEOUT / EMPTY,
 * 3 EEXIST, 4 ENOENT, 5 EOVERFLOW.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int fail(const char *what, const char *name)
{
	int e = errno;
	fprintf(stderr, "semtool: %s %s: %s\n", what, name, strerror(e));
	switch (e) {
	case EEXIST:
		return 3;
	case ENOENT:
		return 4;
	case EOVERFLOW:
		return 5;
	default:
		return 1;
	}
}

static void slashed(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/%s", name);
}

static sem_t *open_existing(const char *name)
{
	char path[512];
	slashed(path, sizeof path, name);
	return sem_open(path, 0);
}

/* wait_one returns 0 when it took a token, 2 on timeout, 1 on error. */
static int wait_one(sem_t *sem, long timeout_ms)
{
	int r;
	if (timeout_ms < 0) {
		while ((r = sem_wait(sem)) == -1 && errno == EINTR)
			;
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while ((r = sem_timedwait(sem, &ts)) == -1 && errno == EINTR)
			;
	}
	if (r == 0)
		return 0;
	if (errno == ETIMEDOUT)
		return 2;
	perror("semtool: sem_wait");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: semtool COMMAND NAME ...\n");
		return 1;
	}
	const char *cmd = argv[1], *name = argv[2];
	char path[512];
	slashed(path, sizeof path, name);

	if (strcmp(cmd, "create") == 0 && argc >= 4) {
		unsigned value = (unsigned)strtoul(argv[3], NULL, 10);
		mode_t mode = argc >= 5 ? (mode_t)strtoul(argv[4], NULL, 8) : 0600;
		sem_t *s = sem_open(path, O_CREAT | O_EXCL, mode, value);
		if (s == SEM_FAILED)
			return fail("sem_open", path);
		sem_close(s);
		puts("CREATED");
		return 0;
	}
	if (strcmp(cmd, "unlink") == 0) {
		if (sem_unlink(path) != 0)
			return fail("sem_unlink", path);
		puts("UNLINKED");
		return 0;
	}

	sem_t *s = open_existing(name);
	if (s == SEM_FAILED)
		return fail("sem_open", path);

	if (strcmp(cmd, "post") == 0) {
		long n = argc >= 4 ? strtol(argv[3], NULL, 10) : 1;
		for (long i = 0; i < n; i++)
			if (sem_post(s) != 0)
				return fail("sem_post", path);
		puts("POSTED");
	} else if (strcmp(cmd, "wait") == 0 && argc >= 4) {
		long timeout_ms = strtol(argv[3], NULL, 10);
		long n = argc >= 5 ? strtol(argv[4], NULL, 10) : 1;
		for (long i = 0; i < n; i++) {
			int r = wait_one(s, timeout_ms);
			if (r == 2) {
				puts("TIMEOUT");
				return 2;
			}
			if (r != 0)
				return r;
		}
		puts("WOKE");
	} else if (strcmp(cmd, "trywait") == 0) {
		if (sem_trywait(s) == 0) {
			puts("TAKEN");
		} else if (errno == EAGAIN) {
			puts("EMPTY");
			return 2;
		} else {
			return fail("sem_trywait", path);
		}
	} else if (strcmp(cmd, "getvalue") == 0) {
		int v;
		if (sem_getvalue(s, &v) != 0)
			return fail("sem_getvalue", path);
		printf("%d\n", v);
	} else if (strcmp(cmd, "pingpong") == 0 && argc >= 5) {
		char pong_path[512];
		const char *pong = argv[3];
		long n = strtol(argv[4], NULL, 10);
		long timeout_ms = argc >= 6 ? strtol(argv[5], NULL, 10) : -1;
		sem_t *p = open_existing(pong);
		slashed(pong_path, sizeof pong_path, pong);
		if (p == SEM_FAILED)
			return fail("sem_open", pong_path);
		for (long i = 0; i < n; i++) {
			int r = wait_one(s, timeout_ms);
			if (r == 2) {
				printf("TIMEOUT after %ld\n", i);
				return 2;
			}
			if (r != 0)
				return r;
			if (sem_post(p) != 0)
				return fail("sem_post", pong_path);
		}
		sem_close(p);
		puts("DONE");
	} else {
		fprintf(stderr, "semtool: bad command %s\n", cmd);
		return 1;
	}
	sem_close(s);
	return 0;
}
