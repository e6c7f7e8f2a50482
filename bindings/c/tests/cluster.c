/*
 * The cluster engine as a C program sees it: create a cluster, apply a YAML
 * manifest, list, EndpointSlices, explain, delete; a bad manifest leaves the
 * cluster unchanged with a located last error; NULL arguments, invalid UTF-8
 * and bad configurations are statuses, not crashes; concurrent read-only
 * calls on one cluster from several threads.
 *
 * Built by tests/tests/c_api.rs with
 *   gcc -std=c11 -Wall -Wextra -Werror -pedantic -pthread
 * against libsvcroute_c.a and libsvcroute_c.so, and run under valgrind by
 * .ci/test. Exit status 0 when every check passed.
 *
 * The manifest is the same as in wasm/tests/cluster.test.mjs. JSON objects
 * the library builds (changes, explanations) have their keys in
 * alphabetical order; Kubernetes objects keep the API's field order.
 */
#include "svcroute.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* `text` contains `part` (and is not NULL). */
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

/* The calling thread's last error message, owned by the caller. */
static char *last_error(void) {
    char *msg = svcroute_last_error_message_dup();
    if (msg == NULL) {
        abort();
    }
    return msg;
}

/* How many times `part` occurs in `text`. */
static int count(const char *text, const char *part) {
    int n = 0;
    size_t len = strlen(part);
    for (const char *p = text; (p = strstr(p, part)) != NULL; p += len) {
        n++;
    }
    return n;
}

static const char MANIFEST[] =
    "# A shop: one node, two web pods (one not ready), a Service, and a\n"
    "# ConfigMap svcroute does not model.\n"
    "apiVersion: v1\n"
    "kind: Node\n"
    "metadata: {name: n1}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web-1\n"
    "  namespace: shop\n"
    "  labels: {app: web}\n"
    "spec:\n"
    "  nodeName: n1\n"
    "  containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]\n"
    "status:\n"
    "  phase: Running\n"
    "  podIPs: [{ip: 10.244.0.5}]\n"
    "  conditions: [{type: Ready, status: \"True\"}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web-2\n"
    "  namespace: shop\n"
    "  labels: {app: web}\n"
    "spec:\n"
    "  nodeName: n1\n"
    "  containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]\n"
    "status:\n"
    "  phase: Running\n"
    "  podIPs: [{ip: 10.244.0.6}]\n"
    "  conditions: [{type: Ready, status: \"False\"}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: api-1\n"
    "  namespace: shop\n"
    "  labels: {app: webb}\n"
    "spec: {nodeName: n1}\n"
    "status:\n"
    "  phase: Running\n"
    "  podIPs: [{ip: 10.244.0.7}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: web, namespace: shop}\n"
    "spec:\n"
    "  clusterIP: 10.96.0.20\n"
    "  selector: {app: web}\n"
    "  ports: [{name: http, port: 80, targetPort: http}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: ConfigMap\n"
    "metadata: {name: settings, namespace: shop}\n"
    "data: {mode: fast}\n";

/* Document 1 (0-based) has a targetPort of the wrong type. */
static const char BAD_MANIFEST[] =
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata: {name: other}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: broken, namespace: shop}\n"
    "spec:\n"
    "  ports: [{port: 80, targetPort: true}]\n";

/* Every object of the cluster as JSON, for before/after comparisons. */
static char *snapshot(const svcroute_cluster *c) {
    static const char *const kinds[] = {"Namespace", "Node", "Pod", "Service",
                                        "EndpointSlice"};
    size_t cap = 1, len = 0;
    char *all = calloc(1, 1);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char *list = NULL;
        if (svcroute_cluster_list_json(c, kinds[i], NULL, NULL, &list) != SVCROUTE_STATUS_OK) {
            abort();
        }
        size_t n = strlen(list);
        cap = len + n + 1;
        all = realloc(all, cap);
        if (all == NULL) {
            abort();
        }
        memcpy(all + len, list, n + 1);
        len += n;
        svcroute_string_free(list);
    }
    return all;
}

static svcroute_cluster *shop(void) {
    svcroute_cluster *c = NULL;
    CHECK(svcroute_cluster_new(NULL, &c) == SVCROUTE_STATUS_OK);
    CHECK(c != NULL);
    char *changes = NULL;
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)MANIFEST, strlen(MANIFEST), &changes) ==
          SVCROUTE_STATUS_OK);
    /* The node, the three pods, the Service, the namespace shop, the
     * controller's EndpointSlice and its Endpoints object; the ConfigMap
     * skipped and counted. */
    CHECK_HAS(changes, "\"created\":[");
    CHECK(count(changes, "\"name\":") == 8);
    CHECK_HAS(changes, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"name\":\"shop\"}");
    CHECK_HAS(changes, "\"kind\":\"EndpointSlice\",\"name\":\"web-");
    CHECK_HAS(changes, "\"deleted\":[]");
    CHECK_HAS(changes, "\"updated\":[]");
    CHECK_HAS(changes, "\"skipped\":[{\"apiVersion\":\"v1\",\"count\":1,\"kind\":\"ConfigMap\"}]");
    svcroute_string_free(changes);
    return c;
}

static void test_apply_and_read(void) {
    svcroute_cluster *c = shop();
    char *out = NULL;

    /* A fresh real cluster: the bootstrap namespaces and default/kubernetes. */
    CHECK(svcroute_cluster_list_json(c, "Namespace", NULL, NULL, &out) == SVCROUTE_STATUS_OK);
    CHECK_HAS(out, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"},\"items\":[");
    CHECK(count(out, "\"kind\":\"Namespace\"") == 5);
    CHECK_HAS(out, "\"name\":\"kube-system\"");
    svcroute_string_free(out);
    CHECK(svcroute_cluster_list_json(c, "service", "default", "", &out) == SVCROUTE_STATUS_OK);
    CHECK_HAS(out, "\"clusterIP\":\"10.96.0.1\"");
    svcroute_string_free(out);

    /* Pods by selector, in one namespace and in all. */
    CHECK(svcroute_cluster_list_json(c, "Pod", "shop", "app=web", &out) == SVCROUTE_STATUS_OK);
    CHECK(count(out, "\"kind\":\"Pod\"") == 2);
    CHECK_HAS(out, "\"name\":\"web-1\"");
    CHECK_HAS(out, "\"name\":\"web-2\"");
    svcroute_string_free(out);
    CHECK(svcroute_cluster_list_json(c, "Pod", NULL, "app in (web,webb),app!=web", &out) ==
          SVCROUTE_STATUS_OK);
    CHECK(count(out, "\"kind\":\"Pod\"") == 1);
    CHECK_HAS(out, "\"name\":\"api-1\"");
    svcroute_string_free(out);
    CHECK(svcroute_cluster_list_json(c, "Pod", "elsewhere", NULL, &out) == SVCROUTE_STATUS_OK);
    CHECK_HAS(out, "\"items\":[]");
    svcroute_string_free(out);

    /* The controller's slice: both pods, web-1 ready, the named port resolved. */
    CHECK(svcroute_cluster_endpoint_slices_json(c, "shop", "web", &out) == SVCROUTE_STATUS_OK);
    CHECK(count(out, "\"kind\":\"EndpointSlice\"") == 1);
    CHECK_HAS(out, "\"addresses\":[\"10.244.0.5\"]");
    CHECK_HAS(out, "\"addresses\":[\"10.244.0.6\"]");
    CHECK_HAS(out, "\"port\":8080");
    CHECK_HAS(out, "\"kubernetes.io/service-name\":\"web\"");
    svcroute_string_free(out);

    /* Why: one ready, one not ready, one near miss. */
    CHECK(svcroute_cluster_explain_service_json(c, "shop", "web", &out) == SVCROUTE_STATUS_OK);
    CHECK_HAS(out, "\"readyEndpoints\":1");
    CHECK_HAS(out, "\"selector\":\"app=web\"");
    CHECK_HAS(out, "\"verdict\":\"Ready\"");
    CHECK_HAS(out, "\"verdict\":\"NotReady\"");
    CHECK_HAS(out, "\"verdict\":\"NotSelected\"");
    CHECK_HAS(out, "\"labelMisses\":[{\"found\":\"webb\",\"key\":\"app\",\"wanted\":\"web\"}]");
    svcroute_string_free(out);

    /* Unknown names are NOT_FOUND, *out untouched. */
    out = NULL;
    CHECK(svcroute_cluster_explain_service_json(c, "shop", "nope", &out) ==
          SVCROUTE_STATUS_NOT_FOUND);
    CHECK(out == NULL);
    char *msg = last_error();
    CHECK_HAS(msg, "Service shop/nope: not found");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_endpoint_slices_json(c, "shop", "nope", &out) ==
          SVCROUTE_STATUS_NOT_FOUND);
    CHECK(out == NULL);

    /* Delete: the Service, its Endpoints and its slice go; deleting again
     * is NOT_FOUND. */
    char *changes = NULL;
    CHECK(svcroute_cluster_delete(c, "Service", "shop", "web", &changes) == SVCROUTE_STATUS_OK);
    CHECK_HAS(changes, "\"deleted\":[{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"name\":\"web\","
                       "\"namespace\":\"shop\"},{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\","
                       "\"name\":\"web\",\"namespace\":\"shop\"},{\"apiVersion\":\"discovery.k8s.io/v1\","
                       "\"kind\":\"EndpointSlice\",\"name\":\"web-");
    svcroute_string_free(changes);
    CHECK(svcroute_cluster_delete(c, "Service", "shop", "web", NULL) == SVCROUTE_STATUS_NOT_FOUND);
    msg = last_error();
    CHECK_HAS(msg, "Service shop/web: not found");
    svcroute_string_free(msg);
    /* A cluster-scoped kind ignores the namespace; NULL is `default`. */
    CHECK(svcroute_cluster_delete(c, "node", "shop", "n1", NULL) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_cluster_delete(c, "Service", NULL, "kubernetes", NULL) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_cluster_delete(c, "ConfigMap", "shop", "settings", NULL) ==
          SVCROUTE_STATUS_UNSUPPORTED);

    /* Watch events apply in order; the changes are net of the whole call. */
    static const char EVENTS[] =
        "{\"type\": \"ADDED\", \"object\": {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", "
        "\"metadata\": {\"name\": \"tmp\"}}}\n"
        "{\"type\": \"DELETED\", \"object\": {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", "
        "\"metadata\": {\"name\": \"tmp\"}}}\n"
        "{\"type\": \"ADDED\", \"object\": {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", "
        "\"metadata\": {\"name\": \"kept\"}}}\n";
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)EVENTS, strlen(EVENTS), &changes) ==
          SVCROUTE_STATUS_OK);
    CHECK_HAS(changes, "\"created\":[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"name\":\"kept\"}]");
    CHECK(count(changes, "tmp") == 0);
    svcroute_string_free(changes);

    svcroute_cluster_free(c);
    svcroute_cluster_free(NULL);
}

static void test_bad_manifests_change_nothing(void) {
    svcroute_cluster *c = shop();
    char *before = snapshot(c);

    char *changes = NULL;
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)BAD_MANIFEST, strlen(BAD_MANIFEST),
                                 &changes) == SVCROUTE_STATUS_PARSE);
    CHECK(changes == NULL);
    CHECK(svcroute_last_error_status() == SVCROUTE_STATUS_PARSE);
    char *msg = last_error();
    CHECK_HAS(msg, "document 1");
    CHECK_HAS(msg, "line 9");
    CHECK_HAS(msg, "Service shop/broken");
    CHECK_HAS(msg, "spec.ports[0].targetPort");
    svcroute_string_free(msg);

    /* Syntax errors, too. */
    static const char SYNTAX[] = "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n";
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)SYNTAX, strlen(SYNTAX), NULL) ==
          SVCROUTE_STATUS_PARSE);
    msg = last_error();
    CHECK_HAS(msg, "document 0");
    svcroute_string_free(msg);

    /* A batch the cluster refuses (a pod without a name) is all or nothing. */
    static const char NAMELESS[] =
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {namespace: shop}\n";
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)NAMELESS, strlen(NAMELESS), NULL) ==
          SVCROUTE_STATUS_INVALID);
    msg = last_error();
    CHECK_HAS(msg, "document 1 (line 5): Pod shop/: metadata.name: name is required");
    svcroute_string_free(msg);

    /* Invalid UTF-8 inside a manifest. */
    static const char LATIN1[] = "apiVersion: v1\nkind: Namespace\nmetadata: {name: caf\xe9}\n";
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)LATIN1, strlen(LATIN1), NULL) ==
          SVCROUTE_STATUS_INVALID_UTF8);
    msg = last_error();
    CHECK_HAS(msg, "argument `bytes` is not valid UTF-8 (first bad byte at offset 51)");
    svcroute_string_free(msg);

    char *after = snapshot(c);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);

    /* An empty manifest is no change; NULL with length 0 is empty. */
    CHECK(svcroute_cluster_apply(c, NULL, 0, &changes) == SVCROUTE_STATUS_OK);
    CHECK_HAS(changes, "{\"created\":[],\"deleted\":[],\"skipped\":[],\"updated\":[]}");
    svcroute_string_free(changes);
    svcroute_cluster_free(c);
}

static void test_arguments(void) {
    svcroute_cluster *c = shop();
    char *out = NULL;
    char *msg;

    CHECK(svcroute_cluster_new(NULL, NULL) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_cluster_apply(NULL, (const uint8_t *)"{}", 2, NULL) ==
          SVCROUTE_STATUS_NULL_ARGUMENT);
    msg = last_error();
    CHECK_HAS(msg, "argument `cluster` is NULL");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_apply(c, NULL, 3, NULL) == SVCROUTE_STATUS_NULL_ARGUMENT);
    msg = last_error();
    CHECK_HAS(msg, "argument `bytes` is NULL");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_list_json(c, "Pod", NULL, NULL, NULL) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_cluster_list_json(c, NULL, NULL, NULL, &out) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_cluster_list_json(NULL, "Pod", NULL, NULL, &out) ==
          SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_cluster_endpoint_slices_json(c, NULL, "web", &out) ==
          SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_cluster_explain_service_json(c, "shop", NULL, &out) ==
          SVCROUTE_STATUS_NULL_ARGUMENT);
    msg = last_error();
    CHECK_HAS(msg, "argument `service` is NULL");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_delete(c, "Pod", NULL, NULL, NULL) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(out == NULL);

    /* Invalid UTF-8 in strings. */
    CHECK(svcroute_cluster_list_json(c, "Pod", "sh\xffop", NULL, &out) ==
          SVCROUTE_STATUS_INVALID_UTF8);
    msg = last_error();
    CHECK_HAS(msg, "argument `namespace` is not valid UTF-8 (first bad byte at offset 2)");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_explain_service_json(c, "shop", "w\xc3", &out) ==
          SVCROUTE_STATUS_INVALID_UTF8);
    CHECK(svcroute_cluster_new("{\"clusterDomain\": \"\xff\"}", &c) == SVCROUTE_STATUS_INVALID_UTF8);

    /* Bad kinds and selectors. */
    CHECK(svcroute_cluster_list_json(c, "ConfigMap", NULL, NULL, &out) ==
          SVCROUTE_STATUS_UNSUPPORTED);
    msg = last_error();
    CHECK_HAS(msg, "\"ConfigMap\" is not a kind svcroute models");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_list_json(c, "Pod", NULL, "app in (web", &out) ==
          SVCROUTE_STATUS_PARSE);
    CHECK(out == NULL);

    /* Configurations. */
    svcroute_cluster *other = NULL;
    CHECK(svcroute_cluster_new("{\"clusterDomain\": \"corp.example\", \"bootstrap\": false, "
                               "\"serviceCIDRs\": [\"10.100.0.0/24\"], \"proxyMode\": \"nftables\", "
                               "\"seed\": 7, \"maxEndpointsPerSlice\": 2}",
                               &other) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_cluster_list_json(other, "Namespace", NULL, NULL, &out) == SVCROUTE_STATUS_OK);
    CHECK_HAS(out, "\"items\":[]");
    svcroute_string_free(out);
    svcroute_cluster_free(other);
    other = NULL;
    CHECK(svcroute_cluster_new("{\"clusterDomain\": 5}", &other) == SVCROUTE_STATUS_PARSE);
    msg = last_error();
    CHECK_HAS(msg, "config: clusterDomain: expected a string, found a number");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_new("{\"clusterDomian\": \"x\"}", &other) == SVCROUTE_STATUS_PARSE);
    msg = last_error();
    CHECK_HAS(msg, "unknown key \"clusterDomian\"");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_new("[1]", &other) == SVCROUTE_STATUS_PARSE);
    CHECK(svcroute_cluster_new("{\"serviceCIDRs\": [\"10.0.0.0/99\"]}", &other) ==
          SVCROUTE_STATUS_INVALID);
    CHECK(svcroute_cluster_new("{\"maxEndpointsPerSlice\": 0}", &other) ==
          SVCROUTE_STATUS_INVALID);
    msg = last_error();
    CHECK_HAS(msg, "maxEndpointsPerSlice");
    svcroute_string_free(msg);
    CHECK(svcroute_cluster_new("{\"proxyMode\": \"userspace\"}", &other) ==
          SVCROUTE_STATUS_INVALID);
    CHECK(other == NULL);

    svcroute_cluster_free(c);
}

/* Read-only calls on one cluster from several threads at once. */
#define THREADS 8
#define ROUNDS 50

struct reader {
    const svcroute_cluster *cluster;
    const char *want_list;
    const char *want_slices;
    const char *want_explain;
};

static int same(svcroute_status s, char *got, const char *want) {
    int ok = s == SVCROUTE_STATUS_OK && got != NULL && strcmp(got, want) == 0;
    svcroute_string_free(got);
    return ok;
}

static void *reader_main(void *arg) {
    const struct reader *r = arg;
    long bad = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char *out = NULL;
        svcroute_status s = svcroute_cluster_list_json(r->cluster, "Pod", "shop", "app=web", &out);
        bad += !same(s, out, r->want_list);
        s = svcroute_cluster_endpoint_slices_json(r->cluster, "shop", "web", &out);
        bad += !same(s, out, r->want_slices);
        s = svcroute_cluster_explain_service_json(r->cluster, "shop", "web", &out);
        bad += !same(s, out, r->want_explain);
        /* Each thread's failures stay its own. */
        s = svcroute_cluster_explain_service_json(r->cluster, "shop", "nope", &out);
        bad += s != SVCROUTE_STATUS_NOT_FOUND;
        char msg[64];
        bad += svcroute_last_error_message(msg, sizeof msg, NULL) != SVCROUTE_STATUS_OK ||
               strcmp(msg, "Service shop/nope: not found") != 0;
    }
    return (void *)(size_t)bad;
}

static void test_concurrent_reads(void) {
    svcroute_cluster *c = shop();
    char *list = NULL, *slices = NULL, *explain = NULL;
    CHECK(svcroute_cluster_list_json(c, "Pod", "shop", "app=web", &list) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_cluster_endpoint_slices_json(c, "shop", "web", &slices) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_cluster_explain_service_json(c, "shop", "web", &explain) == SVCROUTE_STATUS_OK);
    struct reader r = {c, list, slices, explain};

    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&threads[i], NULL, reader_main, &r) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *bad = NULL;
        CHECK(pthread_join(threads[i], &bad) == 0);
        CHECK(bad == NULL);
    }
    svcroute_string_free(list);
    svcroute_string_free(slices);
    svcroute_string_free(explain);
    svcroute_cluster_free(c);
}

int main(void) {
    test_apply_and_read();
    test_bad_manifests_change_nothing();
    test_arguments();
    test_concurrent_reads();
    printf("cluster: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
