/*
 * The C contract of svcroute.h as a C program sees it: version, status names,
 * argument checks (NULL, invalid UTF-8), the last-error protocol, and that the
 * last error is per thread.
 *
 * Built by tests/tests/c_api.rs with
 *   gcc -std=c11 -Wall -Wextra -Werror -pedantic -pthread
 * against libsvcroute_c.a and libsvcroute_c.so, and run under valgrind by
 * .ci/test. Exit status 0 when every check passed.
 */
#include "svcroute.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SVCROUTE_EXPECTED_VERSION
#error "compile with -DSVCROUTE_EXPECTED_VERSION=\"x.y.z\""
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

/* The last error message, through the two-call protocol, in a heap buffer. */
static char *last_error(void) {
    size_t len = 0;
    svcroute_status s = svcroute_last_error_message(NULL, 0, &len);
    CHECK(s == SVCROUTE_STATUS_BUFFER_TOO_SMALL);
    char *buf = malloc(len + 1);
    if (buf == NULL) {
        abort();
    }
    size_t len2 = 0;
    s = svcroute_last_error_message(buf, len + 1, &len2);
    CHECK(s == SVCROUTE_STATUS_OK);
    CHECK(len2 == len);
    CHECK(strlen(buf) == len);
    return buf;
}

static void test_version(void) {
    const char *v = svcroute_version();
    CHECK(v != NULL);
    CHECK_STR(v, SVCROUTE_EXPECTED_VERSION);
    /* Static: the same pointer every time, never freed. */
    CHECK(svcroute_version() == v);
}

static void test_status_names(void) {
    static const struct {
        svcroute_status status;
        int number;
        const char *name;
    } table[] = {
        {SVCROUTE_STATUS_OK, 0, "ok"},
        {SVCROUTE_STATUS_PARSE, 1, "parse"},
        {SVCROUTE_STATUS_INVALID, 2, "invalid"},
        {SVCROUTE_STATUS_CONFLICT, 3, "conflict"},
        {SVCROUTE_STATUS_NOT_FOUND, 4, "not-found"},
        {SVCROUTE_STATUS_LIMIT, 5, "limit"},
        {SVCROUTE_STATUS_UNSUPPORTED, 6, "unsupported"},
        {SVCROUTE_STATUS_NULL_ARGUMENT, 100, "null-argument"},
        {SVCROUTE_STATUS_INVALID_UTF8, 101, "invalid-utf8"},
        {SVCROUTE_STATUS_BUFFER_TOO_SMALL, 102, "buffer-too-small"},
        {SVCROUTE_STATUS_PANIC, 103, "panic"},
        {SVCROUTE_STATUS_INTERNAL, 104, "internal"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        CHECK((int)table[i].status == table[i].number);
        CHECK_STR(svcroute_status_name(table[i].status), table[i].name);

        svcroute_status out = SVCROUTE_STATUS_INTERNAL;
        CHECK(svcroute_status_from_name(table[i].name, &out) == SVCROUTE_STATUS_OK);
        CHECK(out == table[i].status);
        CHECK(svcroute_last_error_status() == SVCROUTE_STATUS_OK);
    }
    CHECK_STR(svcroute_status_name(7), "unknown");
    CHECK_STR(svcroute_status_name(-1), "unknown");
    CHECK(sizeof(svcroute_status) == sizeof(int));
}

static void test_errors(void) {
    svcroute_status out = SVCROUTE_STATUS_LIMIT;

    /* An unknown name: NOT_FOUND, *out untouched, a message that quotes it. */
    CHECK(svcroute_status_from_name("no-such", &out) == SVCROUTE_STATUS_NOT_FOUND);
    CHECK(out == SVCROUTE_STATUS_LIMIT);
    CHECK(svcroute_last_error_status() == SVCROUTE_STATUS_NOT_FOUND);
    char *msg = last_error();
    CHECK_STR(msg, "no status is named \"no-such\"");
    free(msg);
    /* Reading the message does not clear it. */
    msg = last_error();
    CHECK_STR(msg, "no status is named \"no-such\"");
    free(msg);

    /* A truncated read: as much as fits, NUL-terminated, at a char boundary. */
    char small[8];
    memset(small, 'x', sizeof small);
    size_t len = 0;
    CHECK(svcroute_last_error_message(small, sizeof small, &len) ==
          SVCROUTE_STATUS_BUFFER_TOO_SMALL);
    CHECK(len == strlen("no status is named \"no-such\""));
    CHECK_STR(small, "no stat");
    /* out_len may be NULL; buf may not be NULL with a length. */
    CHECK(svcroute_last_error_message(small, sizeof small, NULL) ==
          SVCROUTE_STATUS_BUFFER_TOO_SMALL);
    CHECK(svcroute_last_error_message(NULL, 4, &len) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_last_error_status() == SVCROUTE_STATUS_NOT_FOUND);

    /* The same message as a library-owned copy, freed by the library. */
    char *copy = svcroute_last_error_message_dup();
    CHECK_STR(copy, "no status is named \"no-such\"");
    svcroute_string_free(copy);
    svcroute_string_free(NULL);
    CHECK(svcroute_last_error_status() == SVCROUTE_STATUS_NOT_FOUND);

    /* NULL arguments have their own status. */
    CHECK(svcroute_status_from_name(NULL, &out) == SVCROUTE_STATUS_NULL_ARGUMENT);
    msg = last_error();
    CHECK_STR(msg, "argument `name` is NULL");
    free(msg);
    CHECK(svcroute_status_from_name("ok", NULL) == SVCROUTE_STATUS_NULL_ARGUMENT);
    msg = last_error();
    CHECK_STR(msg, "argument `out` is NULL");
    free(msg);

    /* Invalid UTF-8 is an error, not a crash. */
    CHECK(svcroute_status_from_name("ok\xff", &out) == SVCROUTE_STATUS_INVALID_UTF8);
    msg = last_error();
    CHECK_STR(msg, "argument `name` is not valid UTF-8 (first bad byte at offset 2)");
    free(msg);
    CHECK(svcroute_status_from_name("\xc3", &out) == SVCROUTE_STATUS_INVALID_UTF8);
    CHECK(out == SVCROUTE_STATUS_LIMIT);

    /* A success clears the last error. */
    CHECK(svcroute_status_from_name("ok", &out) == SVCROUTE_STATUS_OK);
    CHECK(out == SVCROUTE_STATUS_OK);
    CHECK(svcroute_last_error_status() == SVCROUTE_STATUS_OK);
    msg = last_error();
    CHECK_STR(msg, "");
    free(msg);
    copy = svcroute_last_error_message_dup();
    CHECK_STR(copy, "");
    svcroute_string_free(copy);
}

/* Each thread sees its own last error. */
#define THREADS 8
#define ROUNDS 200

static void *thread_main(void *arg) {
    long id = (long)(size_t)arg;
    long bad = 0;
    char name[32];
    char want[64];
    char got[64];
    for (int round = 0; round < ROUNDS; round++) {
        snprintf(name, sizeof name, "t%ld-r%d", id, round);
        snprintf(want, sizeof want, "no status is named \"%s\"", name);
        svcroute_status out;
        if (svcroute_status_from_name(name, &out) != SVCROUTE_STATUS_NOT_FOUND) {
            bad++;
        }
        if (svcroute_last_error_message(got, sizeof got, NULL) != SVCROUTE_STATUS_OK ||
            strcmp(got, want) != 0) {
            bad++;
        }
    }
    return (void *)(size_t)bad;
}

static void test_threads(void) {
    /* This thread's error must survive the others' calls. */
    svcroute_status out;
    CHECK(svcroute_status_from_name("main-thread", &out) == SVCROUTE_STATUS_NOT_FOUND);

    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&threads[i], NULL, thread_main, (void *)(size_t)i) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *bad = NULL;
        CHECK(pthread_join(threads[i], &bad) == 0);
        CHECK(bad == NULL);
    }
    char *msg = last_error();
    CHECK_STR(msg, "no status is named \"main-thread\"");
    free(msg);
}

int main(void) {
    test_version();
    test_status_names();
    test_errors();
    test_threads();
    printf("api_basics: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
