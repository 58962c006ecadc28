// The floor of restore's apply on this machine: the system calls it makes per file, in C, on two
// threads taking runs of 512 paths in turn (as WorkingTreeFiles.inParts does), each directory opened
// once with O_PATH. Run in a fresh clone: bench/set-floor.sh builds it and feeds it `git ls-files -z`.
//   set-floor guarded   openat, F_SETLEASE (read), fstat, futimens, fstat, close (GuardedTimeSetter)
//   set-floor lstat     fstatat(AT_SYMLINK_NOFOLLOW) (the plan's preload)
//   set-floor utimensat utimensat by name, no lease and no check (what `touch -h` does)
// Prints the wall and CPU milliseconds. Sets every file's mtime to 2020-09-13 (guarded, utimensat).
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { runLength = 512, threads = 2 };
static char *paths[1 << 20];
static long count;
static int mode;  // 0 guarded, 1 lstat, 2 utimensat
static atomic_long nextRun;

static double seconds(clockid_t clock) {
    struct timespec now;
    clock_gettime(clock, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static void one(const char *path, char *lastDirectory, int *directory) {
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    char parent[4096] = ".";
    if (slash) { memcpy(parent, path, slash - path); parent[slash - path] = 0; }
    if (strcmp(parent, lastDirectory)) {
        if (*directory >= 0) close(*directory);
        *directory = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        strcpy(lastDirectory, parent);
    }
    struct stat status;
    struct timespec times[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
    if (mode == 1) { fstatat(*directory, name, &status, AT_SYMLINK_NOFOLLOW); return; }
    if (mode == 2) { utimensat(*directory, name, times, AT_SYMLINK_NOFOLLOW); return; }
    int file = openat(*directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (file < 0) return;
    fcntl(file, F_SETLEASE, F_RDLCK);
    fstat(file, &status);
    futimens(file, times);
    fstat(file, &status);
    close(file);
}

static void *work(void *unused) {
    (void)unused;
    char lastDirectory[4096] = "";
    int directory = -1;
    for (long run; (run = atomic_fetch_add(&nextRun, 1)) * runLength < count;)
        for (long i = run * runLength; i < count && i < (run + 1) * runLength; i++) one(paths[i], lastDirectory, &directory);
    if (directory >= 0) close(directory);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: set-floor guarded|lstat|utimensat < NUL-separated paths\n"); return 64; }
    mode = !strcmp(argv[1], "lstat") ? 1 : !strcmp(argv[1], "utimensat") ? 2 : 0;
    signal(SIGIO, SIG_IGN);  // a lease break
    static char input[1 << 26];
    size_t length = fread(input, 1, sizeof input, stdin);
    for (size_t i = 0; i < length && count < (long)(sizeof paths / sizeof *paths); i += strlen(input + i) + 1) paths[count++] = input + i;
    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
    pthread_t started[threads];
    for (int i = 0; i < threads; i++) pthread_create(&started[i], 0, work, 0);
    for (int i = 0; i < threads; i++) pthread_join(started[i], 0);
    printf("%s: %ld files, wall %.1f ms, cpu %.1f ms\n", argv[1], count, (seconds(CLOCK_MONOTONIC) - wall) * 1e3,
           (seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu) * 1e3);
    return 0;
}
