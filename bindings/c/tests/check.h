/*
 * Checks shared by the C tests that include it (route.c, threads.c): each
 * test program counts passed and failed checks and prints
 * "NAME: P passed, F failed" at the end (tests/tests/c_api.rs reads it).
 */
#ifndef SVCROUTE_TEST_CHECK_H
#define SVCROUTE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SVCROUTE_TEST_DATA_DIR
#error "compile with -DSVCROUTE_TEST_DATA_DIR=\"bindings/c/tests/data\""
#endif

static int passed;
static int failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

#define CHECK_STR(got, want)                                                 \
    do {                                                                     \
        const char *got_ = (got);                                            \
        const char *want_ = (want);                                          \
        if (got_ != NULL && strcmp(got_, want_) == 0) {                      \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__,    \
                    __LINE__, got_ ? got_ : "(null)", want_);                \
        }                                                                    \
    } while (0)

#define CHECK_HAS(text, part)                                                \
    do {                                                                     \
        const char *text_ = (text);                                          \
        const char *part_ = (part);                                          \
        if (text_ != NULL && strstr(text_, part_) != NULL) {                 \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: \"%s\" not in \"%s\"\n", __FILE__,       \
                    __LINE__, part_, text_ ? text_ : "(null)");              \
        }                                                                    \
    } while (0)

/* The whole of a file in tests/data, NUL-terminated; *len its size. */
static char *read_data(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SVCROUTE_TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        abort();
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf == NULL) {
        abort();
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The calling thread's last error message, owned by the caller. */
static char *last_error(void) {
    char *msg = svcroute_last_error_message_dup();
    if (msg == NULL) {
        abort();
    }
    return msg;
}

#endif
