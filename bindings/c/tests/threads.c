/*
 * Concurrent routes on one cluster while it changes: ROUTERS threads each
 * route ROUTES connections (default 100000; SVCROUTE_TEST_ROUTES in the
 * environment overrides it, as .ci/test does under valgrind) to the web
 * Service of tests/data/two-nodes.yaml and to its Local and endpoint-less
 * Services, while the main thread adds, readies, unreadies and deletes
 * web pods (and adds and deletes web pods that are never ready) and flips
 * the Local Service's policy. Every answer must be a valid one for some
 * state of the cluster: forward to a pod of the right Service on the right
 * port, never to a pod that was never ready, drop or reject only where
 * the rules allow. (Each write publishes one whole snapshot that routes
 * read without a lock: see the header's threading model.)
 *
 * Built by tests/tests/c_api.rs with
 *   gcc -std=c11 -Wall -Wextra -Werror -pedantic -pthread
 * against libsvcroute_c.a and libsvcroute_c.so, and run under valgrind by
 * .ci/test. Exit status 0 when every check passed.
 */
#include "svcroute.h"

#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define ROUTERS 8
#define EXTRA_PODS 8

static long routes = 100000;

/* How many routers have finished. */
static atomic_int finished;

struct job {
    const svcroute_cluster *cluster;
    int id;
    long bad;
    long forwards;
    long extra_hits;
};

/* A web endpoint: 10.244.1.5, 10.244.2.6 or an extra pod 10.244.1.1xx, port 8080. */
static int valid_web(const svcroute_route_result *r, int *extra) {
    *extra = 0;
    if (r->outcome != SVCROUTE_OUTCOME_FORWARD || r->endpoint_port != 8080 ||
        r->endpoint.family != SVCROUTE_FAMILY_IPV4) {
        return 0;
    }
    if (strcmp(r->endpoint_text, "10.244.1.5:8080") == 0 ||
        strcmp(r->endpoint_text, "10.244.2.6:8080") == 0) {
        return 1;
    }
    const uint8_t *b = r->endpoint.bytes;
    *extra = b[0] == 10 && b[1] == 244 && b[2] == 1 && b[3] >= 100 && b[3] < 100 + EXTRA_PODS;
    return *extra;
}

static void *router(void *arg) {
    struct job *job = arg;
    svcroute_flow f;
    memset(&f, 0, sizeof f);
    f.protocol = SVCROUTE_PROTOCOL_TCP;
    f.options = SVCROUTE_ROUTE_ENDPOINT_TEXT;
    f.node = job->id % 2 == 0 ? "n1" : "n2";
    if (svcroute_address_parse("10.244.1.9", &f.source) != SVCROUTE_STATUS_OK) {
        abort();
    }
    svcroute_address web, cache, db;
    if (svcroute_address_parse("10.96.0.20", &web) != SVCROUTE_STATUS_OK ||
        svcroute_address_parse("10.96.0.21", &cache) != SVCROUTE_STATUS_OK ||
        svcroute_address_parse("10.96.0.22", &db) != SVCROUTE_STATUS_OK) {
        abort();
    }
    svcroute_route_result r;
    for (long i = 0; i < routes; i++) {
        /* Many clients: spread over the state shards. */
        f.source.bytes[3] = (uint8_t)(i % 200);
        f.source.bytes[2] = (uint8_t)(1 + job->id % 2);
        f.source_port = (uint16_t)(1024 + i % 60000);
        int which = (int)(i % 8);
        if (which < 6) {
            f.destination = web;
            f.destination_port = 80;
        } else if (which == 6) {
            f.destination = cache;
            f.destination_port = 6379;
        } else {
            f.destination = db;
            f.destination_port = 5432;
        }
        if (svcroute_route(job->cluster, &f, (uint64_t)i, &r) != SVCROUTE_STATUS_OK) {
            job->bad++;
            continue;
        }
        int extra = 0;
        int ok;
        if (which < 6) {
            ok = valid_web(&r, &extra);
            job->extra_hits += extra;
        } else if (which == 6) {
            /* Local on n2 has no endpoint (drop, KP-7) unless the policy is
             * Cluster at that moment; n1 has its own. */
            ok = (r.outcome == SVCROUTE_OUTCOME_FORWARD &&
                  strcmp(r.endpoint_text, "10.244.1.7:6379") == 0) ||
                 (r.outcome == SVCROUTE_OUTCOME_DROP && strcmp(f.node, "n2") == 0);
        } else {
            ok = r.outcome == SVCROUTE_OUTCOME_REJECT;
        }
        if (!ok) {
            if (job->bad < 5) {
                fprintf(stderr, "thread %d: unexpected %s %s\n", job->id,
                        svcroute_outcome_name(r.outcome), r.endpoint_text);
            }
            job->bad++;
        } else if (r.outcome == SVCROUTE_OUTCOME_FORWARD) {
            job->forwards++;
        }
    }
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static void apply(svcroute_cluster *c, const char *text) {
    char *msg;
    if (svcroute_cluster_apply(c, (const uint8_t *)text, strlen(text), NULL) != SVCROUTE_STATUS_OK) {
        msg = last_error();
        fprintf(stderr, "apply failed: %s\n", msg);
        free(msg);
        failed++;
    }
}

static void pod(svcroute_cluster *c, int i, const char *ready) {
    char text[512];
    /* extra-0..7 at 10.244.1.100-107 (ready at times); extra-50.. at
     * 10.244.1.150.. are never ready, and no route may ever pick them. */
    snprintf(text, sizeof text,
             "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"extra-%d\","
             " \"namespace\": \"shop\", \"labels\": {\"app\": \"web\"}}, \"spec\": {\"nodeName\":"
             " \"n1\"}, \"status\": {\"phase\": \"Running\", \"podIPs\": [{\"ip\": \"10.244.1.%d\"}],"
             " \"conditions\": [{\"type\": \"Ready\", \"status\": \"%s\"}]}}",
             i, 100 + i, ready);
    apply(c, text);
}

static void cache_policy(svcroute_cluster *c, const char *policy) {
    char text[512];
    snprintf(text, sizeof text,
             "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"cache\","
             " \"namespace\": \"shop\"}, \"spec\": {\"clusterIP\": \"10.96.0.21\","
             " \"internalTrafficPolicy\": \"%s\", \"selector\": {\"app\": \"cache\"},"
             " \"ports\": [{\"port\": 6379}]}}",
             policy);
    apply(c, text);
}

int main(void) {
    const char *env = getenv("SVCROUTE_TEST_ROUTES");
    if (env != NULL && atol(env) > 0) {
        routes = atol(env);
    }
    size_t len = 0;
    char *manifest = read_data("two-nodes.yaml", &len);
    svcroute_cluster *c = NULL;
    CHECK(svcroute_cluster_new("{\"bootstrap\": false}", &c) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)manifest, len, NULL) == SVCROUTE_STATUS_OK);
    free(manifest);

    struct job jobs[ROUTERS];
    pthread_t threads[ROUTERS];
    for (int i = 0; i < ROUTERS; i++) {
        jobs[i] = (struct job){.cluster = c, .id = i};
        CHECK(pthread_create(&threads[i], NULL, router, &jobs[i]) == 0);
    }

    /* Meanwhile: rounds of changes, until every router is done. */
    int rounds = 0;
    for (;;) {
        for (int i = 0; i < EXTRA_PODS; i++) {
            pod(c, i, "True");
            pod(c, 50 + i, "False");
        }
        cache_policy(c, "Cluster");
        for (int i = 0; i < EXTRA_PODS; i += 2) {
            pod(c, i, "False");
        }
        cache_policy(c, "Local");
        for (int i = 0; i < EXTRA_PODS; i++) {
            char *changes = NULL;
            char name[32];
            snprintf(name, sizeof name, "extra-%d", i);
            CHECK(svcroute_cluster_delete(c, "Pod", "shop", name, &changes) == SVCROUTE_STATUS_OK);
            svcroute_string_free(changes);
            snprintf(name, sizeof name, "extra-%d", 50 + i);
            CHECK(svcroute_cluster_delete(c, "Pod", "shop", name, NULL) == SVCROUTE_STATUS_OK);
        }
        rounds++;
        if (atomic_load(&finished) == ROUTERS) {
            break;
        }
    }
    long extra = 0;
    for (int i = 0; i < ROUTERS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(jobs[i].bad == 0);
        CHECK(jobs[i].forwards > 0);
        extra += jobs[i].extra_hits;
    }
    CHECK(rounds >= 1);

    /* After the last change: the extra pods are gone, routes agree. */
    svcroute_flow f;
    memset(&f, 0, sizeof f);
    f.protocol = SVCROUTE_PROTOCOL_TCP;
    f.options = SVCROUTE_ROUTE_ENDPOINT_TEXT;
    f.node = "n1";
    CHECK(svcroute_address_parse("10.244.1.9", &f.source) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_address_parse("10.96.0.20", &f.destination) == SVCROUTE_STATUS_OK);
    f.destination_port = 80;
    int stale = 0;
    for (int i = 0; i < 100; i++) {
        svcroute_route_result r;
        int is_extra = 0;
        CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_OK);
        stale += !valid_web(&r, &is_extra) || is_extra;
    }
    CHECK(stale == 0);
    svcroute_cluster_free(c);
    printf("threads: %d passed, %d failed (%d threads x %ld routes, %d change rounds, %ld "
           "picks of pods added meanwhile)\n",
           passed, failed, ROUTERS, routes, rounds, extra);
    return failed == 0 ? 0 : 1;
}
