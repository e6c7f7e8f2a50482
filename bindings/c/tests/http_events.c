/*
 * HTTP flows and load events through the C door, on tests/data/two-nodes.yaml
 * plus an IngressClass, an Ingress and a LoadBalancer Service with
 * externalTrafficPolicy Local:
 *   - an HTTP request to the Ingress controller (SVCROUTE_PROTOCOL_HTTP):
 *     a rule's backend (ING-4, ING-6), the controller's 404 (ING-5), 503 for
 *     a backend without ready endpoints (ING-6), a controller with no class;
 *   - the health-check NodePort's HTTP answer (200 / 503, KP-10);
 *   - least-request steering away from an endpoint with open connections,
 *     and Peak-EWMA away from a slow one (svcroute_conn_open/close,
 *     svcroute_observe_latency);
 *   - the errors (NULL request, NULL endpoint, bad family).
 *
 * Built by tests/tests/c_api.rs with
 *   gcc -std=c11 -Wall -Wextra -Werror -pedantic -pthread
 * against libsvcroute_c.a and libsvcroute_c.so, and run under valgrind by
 * .ci/test. Exit status 0 when every check passed.
 */
#include "svcroute.h"

#include "check.h"

#include <stdint.h>

static const char EXTRA[] =
    "apiVersion: networking.k8s.io/v1\n"
    "kind: IngressClass\n"
    "metadata: {name: nginx}\n"
    "spec: {controller: k8s.io/ingress-nginx}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: Ingress\n"
    "metadata: {name: shop, namespace: shop}\n"
    "spec:\n"
    "  ingressClassName: nginx\n"
    "  rules:\n"
    "  - host: shop.example.com\n"
    "    http:\n"
    "      paths:\n"
    "      - {path: /cart, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n"
    "      - {path: /db, pathType: Prefix, backend: {service: {name: db, port: {number: 5432}}}}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: edge, namespace: shop}\n"
    "spec:\n"
    "  type: LoadBalancer\n"
    "  externalTrafficPolicy: Local\n"
    "  healthCheckNodePort: 32100\n"
    "  selector: {app: cache}\n"
    "  ports: [{port: 6379, nodePort: 30379}]\n";

static svcroute_cluster *cluster(void) {
    size_t len = 0;
    char *manifest = read_data("two-nodes.yaml", &len);
    svcroute_cluster *c = NULL;
    CHECK(svcroute_cluster_new("{\"bootstrap\": false}", &c) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)manifest, len, NULL) == SVCROUTE_STATUS_OK);
    if (svcroute_cluster_apply(c, (const uint8_t *)EXTRA, strlen(EXTRA), NULL) !=
        SVCROUTE_STATUS_OK) {
        char *msg = last_error();
        fprintf(stderr, "apply: %s\n", msg);
        free(msg);
        failed++;
    }
    free(manifest);
    return c;
}

static svcroute_route_result http(const svcroute_cluster *c, const char *controller,
                                  const char *host, const char *path) {
    svcroute_http req;
    memset(&req, 0, sizeof req);
    req.controller = controller;
    req.host = host;
    req.path = path;
    svcroute_flow f;
    memset(&f, 0, sizeof f);
    f.protocol = SVCROUTE_PROTOCOL_HTTP;
    f.options = SVCROUTE_ROUTE_ENDPOINT_TEXT;
    f.http = &req;
    svcroute_route_result r;
    memset(&r, 0xAB, sizeof r);
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_OK);
    return r;
}

static void test_ingress(void) {
    svcroute_cluster *c = cluster();
    /* ING-4, ING-6: a rule's backend, one of the web pods. */
    svcroute_route_result r = http(c, "k8s.io/ingress-nginx", "shop.example.com", "/cart/1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
    CHECK(r.endpoint_port == 8080);
    CHECK(strcmp(r.endpoint_text, "10.244.1.5:8080") == 0 ||
          strcmp(r.endpoint_text, "10.244.2.6:8080") == 0);
    CHECK(r.http_status == 0);
    /* The Host header in any case, with a port. */
    r = http(c, "k8s.io/ingress-nginx", "Shop.Example.com:80", "/cart?x=1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
    /* ING-5: no rule, no defaultBackend: the controller's 404. */
    r = http(c, "k8s.io/ingress-nginx", "other.example.com", "/cart");
    CHECK(r.outcome == SVCROUTE_OUTCOME_HTTP);
    CHECK(r.http_status == 404);
    CHECK(r.endpoint.family == SVCROUTE_FAMILY_NONE);
    CHECK_STR(r.endpoint_text, "");
    /* ING-6: a backend with no ready endpoint: 503. */
    r = http(c, "k8s.io/ingress-nginx", "shop.example.com", "/db");
    CHECK(r.outcome == SVCROUTE_OUTCOME_HTTP);
    CHECK(r.http_status == 503);
    /* ING-1: a controller no class names serves nothing. */
    r = http(c, "example.com/other", "shop.example.com", "/cart");
    CHECK(r.outcome == SVCROUTE_OUTCOME_HTTP);
    CHECK(r.http_status == 404);
    /* Absent scheme, host and path take their defaults. */
    r = http(c, "k8s.io/ingress-nginx", NULL, NULL);
    CHECK(r.outcome == SVCROUTE_OUTCOME_HTTP && r.http_status == 404);

    /* Errors: HTTP without a request, a request without a controller. */
    svcroute_flow f;
    memset(&f, 0, sizeof f);
    f.protocol = SVCROUTE_PROTOCOL_HTTP;
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_NULL_ARGUMENT);
    char *msg = last_error();
    CHECK_STR(msg, "argument `flow.http` is NULL");
    free(msg);
    svcroute_http req;
    memset(&req, 0, sizeof req);
    f.http = &req;
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_NULL_ARGUMENT);
    msg = last_error();
    CHECK_STR(msg, "argument `flow.http.controller` is NULL");
    free(msg);
    req.controller = "k8s.io/ingress-nginx";
    req.host = "\xff";
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_INVALID_UTF8);
    svcroute_cluster_free(c);
}

static svcroute_route_result tcp(const svcroute_cluster *c, const char *dst, uint16_t port) {
    svcroute_flow f;
    memset(&f, 0, sizeof f);
    f.protocol = SVCROUTE_PROTOCOL_TCP;
    CHECK(svcroute_address_parse("198.51.100.7", &f.source) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_address_parse(dst, &f.destination) == SVCROUTE_STATUS_OK);
    f.source_port = 40000;
    f.destination_port = port;
    svcroute_route_result r;
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_OK);
    return r;
}

static void test_health_check(void) {
    svcroute_cluster *c = cluster();
    /* KP-10: the health-check NodePort answers over HTTP: 200 on n1, which
     * has the cache pod, 503 on n2, which has none. */
    svcroute_route_result r = tcp(c, "192.168.0.1", 32100);
    CHECK(r.outcome == SVCROUTE_OUTCOME_HTTP);
    CHECK(r.http_status == 200);
    r = tcp(c, "192.168.0.2", 32100);
    CHECK(r.outcome == SVCROUTE_OUTCOME_HTTP);
    CHECK(r.http_status == 503);
    svcroute_cluster_free(c);
}

/* Routes n flows from varied source ports to web; counts those to web-1. */
static int to_web1(const svcroute_cluster *c, int n) {
    svcroute_flow f;
    memset(&f, 0, sizeof f);
    f.protocol = SVCROUTE_PROTOCOL_TCP;
    f.node = "n1";
    CHECK(svcroute_address_parse("10.244.1.9", &f.source) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_address_parse("10.96.0.20", &f.destination) == SVCROUTE_STATUS_OK);
    f.destination_port = 80;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        f.source_port = (uint16_t)(20000 + i);
        svcroute_route_result r;
        CHECK(svcroute_route(c, &f, (uint64_t)i, &r) == SVCROUTE_STATUS_OK);
        CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
        hits += r.endpoint.bytes[3] == 5; /* 10.244.1.5 */
    }
    return hits;
}

static void test_least_request(void) {
    svcroute_cluster *c = cluster();
    svcroute_address web1, web2;
    CHECK(svcroute_address_parse("10.244.1.5", &web1) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_address_parse("10.244.2.6", &web2) == SVCROUTE_STATUS_OK);
    /* Events before the algorithm is chosen count too. */
    for (int i = 0; i < 10; i++) {
        CHECK(svcroute_conn_open(c, &web1, 8080) == SVCROUTE_STATUS_OK);
    }
    CHECK(svcroute_set_algorithm(c, "shop", "web", 80, "least-request") == SVCROUTE_STATUS_OK);
    /* web-1 is busy: a new connection goes to web-2 unless both of the two
     * random choices are web-1 (P2C samples with replacement, as Envoy's
     * does): about 1 in 4 instead of 1 in 2. */
    int busy = to_web1(c, 400);
    CHECK(busy > 50 && busy < 150);
    /* The open connections drain (and web-2 gets some): back to web-1. */
    for (int i = 0; i < 10; i++) {
        CHECK(svcroute_conn_close(c, &web1, 8080) == SVCROUTE_STATUS_OK);
    }
    for (int i = 0; i < 5; i++) {
        CHECK(svcroute_conn_open(c, &web2, 8080) == SVCROUTE_STATUS_OK);
    }
    int idle = to_web1(c, 400);
    CHECK(idle > 250 && idle < 350);
    /* A close with nothing open is ignored. */
    CHECK(svcroute_conn_close(c, &web1, 8080) == SVCROUTE_STATUS_OK);
    /* Equal load: both get connections. */
    for (int i = 0; i < 5; i++) {
        CHECK(svcroute_conn_close(c, &web2, 8080) == SVCROUTE_STATUS_OK);
    }
    int even = to_web1(c, 400);
    CHECK(even > 140 && even < 260);
    if (busy <= 50 || busy >= 150 || idle <= 250 || idle >= 350 || even <= 140 || even >= 260) {
        fprintf(stderr, "least-request: web-1 got %d (busy), %d (idle), %d (even) of 400\n", busy,
                idle, even);
    }

    /* Errors. */
    CHECK(svcroute_conn_open(NULL, &web1, 8080) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_conn_open(c, NULL, 8080) == SVCROUTE_STATUS_NULL_ARGUMENT);
    char *msg = last_error();
    CHECK_STR(msg, "argument `endpoint` is NULL");
    free(msg);
    svcroute_address bad = web1;
    bad.family = 5;
    CHECK(svcroute_conn_close(c, &bad, 8080) == SVCROUTE_STATUS_INVALID);
    CHECK(svcroute_observe_latency(c, NULL, 8080, 1000, 0) == SVCROUTE_STATUS_NULL_ARGUMENT);
    svcroute_cluster_free(c);
}

static void test_peak_ewma(void) {
    svcroute_cluster *c = cluster();
    svcroute_address web1, web2;
    CHECK(svcroute_address_parse("10.244.1.5", &web1) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_address_parse("10.244.2.6", &web2) == SVCROUTE_STATUS_OK);
    CHECK(svcroute_set_algorithm(c, "shop", "web", 80, "peak-ewma") == SVCROUTE_STATUS_OK);
    /* web-1 answers in 200 ms, web-2 in 1 ms: new connections avoid web-1. */
    for (int i = 0; i < 5; i++) {
        CHECK(svcroute_observe_latency(c, &web1, 8080, 200000, 0) == SVCROUTE_STATUS_OK);
        CHECK(svcroute_observe_latency(c, &web2, 8080, 1000, 0) == SVCROUTE_STATUS_OK);
    }
    CHECK(to_web1(c, 50) <= 2);
    svcroute_cluster_free(c);
}

int main(void) {
    test_ingress();
    test_health_check();
    test_least_request();
    test_peak_ewma();
    printf("http_events: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
