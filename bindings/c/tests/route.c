/*
 * Routing and DNS through the C door, on tests/data/two-nodes.yaml: the
 * outcomes kube-proxy gives (ClusterIP forward KP-4, masquerade KP-20,
 * internalTrafficPolicy Local drop KP-7, reject without endpoints KP-12,
 * NodePort, ClientIP affinity KP-19, port not exposed, no service), a
 * chosen balancing algorithm, the endpoints of a Service, a DNS answer in
 * wire format parsed here, and the errors (NULL, invalid UTF-8, bad
 * values, bad YAML naming object and field).
 *
 * Built by tests/tests/c_api.rs with
 *   gcc -std=c11 -Wall -Wextra -Werror -pedantic -pthread
 * against libsvcroute_c.a and libsvcroute_c.so, and run under valgrind by
 * .ci/test. Exit status 0 when every check passed.
 */
#include "svcroute.h"

#include "check.h"

#include <arpa/inet.h>
#include <stdint.h>

static svcroute_cluster *small_cluster(const char *config) {
    size_t len = 0;
    char *manifest = read_data("two-nodes.yaml", &len);
    svcroute_cluster *c = NULL;
    CHECK(svcroute_cluster_new(config, &c) == SVCROUTE_STATUS_OK);
    char *changes = NULL;
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)manifest, len, &changes) ==
          SVCROUTE_STATUS_OK);
    CHECK_HAS(changes, "\"kind\":\"EndpointSlice\"");
    svcroute_string_free(changes);
    free(manifest);
    return c;
}

static svcroute_flow flow_to(const char *src, const char *dst, uint16_t port,
                             const char *node) {
    svcroute_flow f;
    memset(&f, 0, sizeof f);
    f.source_kind = SVCROUTE_SOURCE_KIND_PACKET;
    f.protocol = SVCROUTE_PROTOCOL_TCP;
    if (svcroute_address_parse(src, &f.source) != SVCROUTE_STATUS_OK ||
        svcroute_address_parse(dst, &f.destination) != SVCROUTE_STATUS_OK) {
        abort();
    }
    f.source_port = 40000;
    f.destination_port = port;
    f.node = node;
    f.options = SVCROUTE_ROUTE_ENDPOINT_TEXT;
    return f;
}

static svcroute_route_result route(const svcroute_cluster *c, const char *src,
                                   const char *dst, uint16_t port, const char *node) {
    svcroute_flow f = flow_to(src, dst, port, node);
    svcroute_route_result r;
    memset(&r, 0xAB, sizeof r);
    CHECK(svcroute_route(c, &f, 1000, &r) == SVCROUTE_STATUS_OK);
    return r;
}

static int is_web_endpoint(const svcroute_route_result *r) {
    return strcmp(r->endpoint_text, "10.244.1.5:8080") == 0 ||
           strcmp(r->endpoint_text, "10.244.2.6:8080") == 0;
}

static void test_outcomes(void) {
    svcroute_cluster *c = small_cluster("{\"bootstrap\": false}");

    /* ClusterIP from a pod on n1: forward to a ready endpoint (KP-4), no
     * masquerade for a local pod (KP-20); bytes, port and text agree. */
    svcroute_route_result r = route(c, "10.244.1.9", "10.96.0.20", 80, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
    CHECK_STR(svcroute_outcome_name(r.outcome), "forward");
    CHECK(is_web_endpoint(&r));
    CHECK(!r.masquerade);
    CHECK(r.endpoint.family == SVCROUTE_FAMILY_IPV4);
    CHECK(r.endpoint_port == 8080);
    char text[INET_ADDRSTRLEN];
    CHECK(inet_ntop(AF_INET, r.endpoint.bytes, text, sizeof text) != NULL);
    CHECK(strncmp(r.endpoint_text, text, strlen(text)) == 0);
    CHECK(r.http_status == 0);

    /* Both endpoints get traffic. */
    int seen[2] = {0, 0};
    for (int i = 0; i < 200; i++) {
        r = route(c, "10.244.1.9", "10.96.0.20", 80, "n1");
        seen[strcmp(r.endpoint_text, "10.244.1.5:8080") == 0 ? 0 : 1]++;
    }
    CHECK(seen[0] > 50 && seen[1] > 50);

    /* KP-20: a client outside the cluster CIDR is masqueraded. */
    r = route(c, "198.51.100.7", "10.96.0.20", 80, "n2");
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
    CHECK(r.masquerade);

    /* KP-7: internalTrafficPolicy Local, no endpoint on n2: drop; on n1
     * the local endpoint. */
    r = route(c, "10.244.2.9", "10.96.0.21", 6379, "n2");
    CHECK(r.outcome == SVCROUTE_OUTCOME_DROP);
    CHECK_STR(svcroute_outcome_name(r.outcome), "drop");
    CHECK(r.endpoint.family == SVCROUTE_FAMILY_NONE);
    CHECK_STR(r.endpoint_text, "");
    CHECK(r.endpoint_port == 0);
    r = route(c, "10.244.1.9", "10.96.0.21", 6379, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
    CHECK_STR(r.endpoint_text, "10.244.1.7:6379");

    /* KP-12: no ready endpoint anywhere: reject. */
    r = route(c, "10.244.1.9", "10.96.0.22", 5432, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_REJECT);
    CHECK_STR(svcroute_outcome_name(r.outcome), "reject");

    /* NodePort on a node's address, from outside, entering at that node
     * (node NULL: the destination's own front door, D16). */
    r = route(c, "198.51.100.7", "192.168.0.2", 30080, NULL);
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
    CHECK(is_web_endpoint(&r));
    CHECK(r.masquerade);
    /* The same through a named node. */
    r = route(c, "198.51.100.7", "192.168.0.1", 30080, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);

    /* A Service address with a port it does not expose; an address that
     * is no Service. */
    r = route(c, "10.244.1.9", "10.96.0.20", 81, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_PORT_NOT_EXPOSED);
    CHECK_STR(svcroute_outcome_name(r.outcome), "port-not-exposed");
    r = route(c, "10.244.1.9", "10.1.2.3", 80, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_NO_SERVICE);

    /* KP-19: ClientIP affinity keeps one client on one endpoint. */
    r = route(c, "10.244.1.9", "10.96.0.24", 80, "n1");
    char first[SVCROUTE_ENDPOINT_TEXT_SIZE];
    memcpy(first, r.endpoint_text, sizeof first);
    int same = 1;
    for (int i = 0; i < 50; i++) {
        r = route(c, "10.244.1.9", "10.96.0.24", 80, "n1");
        same &= strcmp(first, r.endpoint_text) == 0;
    }
    CHECK(same);

    /* A host-network process on n1 (its source address is the node's). */
    svcroute_flow f = flow_to("0.0.0.0", "10.96.0.20", 80, "n1");
    f.source_kind = SVCROUTE_SOURCE_KIND_HOST;
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_OK);
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);

    CHECK_STR(svcroute_outcome_name(9), "http");
    CHECK_STR(svcroute_outcome_name(0), "unknown");
    svcroute_cluster_free(c);
}

/* Routes follow every change, at once. */
static void test_changes(void) {
    svcroute_cluster *c = small_cluster("{\"bootstrap\": false}");
    static const char READY_DB[] =
        "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"db-1\","
        " \"namespace\": \"shop\", \"labels\": {\"app\": \"db\"}}, \"spec\": {\"nodeName\": "
        "\"n2\"}, \"status\": {\"phase\": \"Running\", \"podIPs\": [{\"ip\": \"10.244.2.8\"}],"
        " \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}}";
    char *changes = NULL;
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)READY_DB, strlen(READY_DB), &changes) ==
          SVCROUTE_STATUS_OK);
    CHECK_HAS(changes, "\"kind\":\"EndpointSlice\",\"name\":\"db-");
    svcroute_string_free(changes);
    svcroute_route_result r = route(c, "10.244.1.9", "10.96.0.22", 5432, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
    CHECK_STR(r.endpoint_text, "10.244.2.8:5432");

    /* A watch event deleting it: reject again. */
    static const char DELETED[] =
        "{\"type\": \"DELETED\", \"object\": {\"apiVersion\": \"v1\", \"kind\": \"Pod\","
        " \"metadata\": {\"name\": \"db-1\", \"namespace\": \"shop\"}}}";
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)DELETED, strlen(DELETED), NULL) ==
          SVCROUTE_STATUS_OK);
    r = route(c, "10.244.1.9", "10.96.0.22", 5432, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_REJECT);

    /* Deleting the Service: the address is no Service any more. */
    CHECK(svcroute_cluster_delete(c, "Service", "shop", "db", NULL) == SVCROUTE_STATUS_OK);
    r = route(c, "10.244.1.9", "10.96.0.22", 5432, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_NO_SERVICE);
    svcroute_cluster_free(c);
}

static void test_algorithm_and_endpoints(void) {
    svcroute_cluster *c = small_cluster("{\"bootstrap\": false}");
    CHECK(svcroute_set_algorithm(c, "shop", "web", 80, "maglev") == SVCROUTE_STATUS_OK);
    /* Consistent hashing: a flow always lands on the same endpoint; many
     * flows spread over both. */
    int seen[2] = {0, 0};
    int stable = 1;
    for (uint16_t port = 1000; port < 1200; port++) {
        svcroute_flow f = flow_to("10.244.1.9", "10.96.0.20", 80, "n1");
        f.source_port = port;
        svcroute_route_result a, b;
        CHECK(svcroute_route(c, &f, 0, &a) == SVCROUTE_STATUS_OK);
        CHECK(svcroute_route(c, &f, 5, &b) == SVCROUTE_STATUS_OK);
        stable &= strcmp(a.endpoint_text, b.endpoint_text) == 0;
        seen[strcmp(a.endpoint_text, "10.244.1.5:8080") == 0 ? 0 : 1]++;
    }
    CHECK(stable);
    CHECK(seen[0] > 40 && seen[1] > 40);
    CHECK(svcroute_set_algorithm(c, "shop", "web", 0, "round-robin") == SVCROUTE_STATUS_OK);
    CHECK(svcroute_set_algorithm(c, "shop", "web", 80, "kube-proxy") == SVCROUTE_STATUS_OK);
    CHECK(svcroute_set_algorithm(c, "shop", "web", 80, "fastest") == SVCROUTE_STATUS_NOT_FOUND);
    char *msg = last_error();
    CHECK_HAS(msg, "no balancing algorithm is named \"fastest\"; the names are kube-proxy, ");
    free(msg);
    CHECK(svcroute_set_algorithm(c, "shop", NULL, 80, "maglev") == SVCROUTE_STATUS_NULL_ARGUMENT);

    char *json = NULL;
    CHECK(svcroute_cluster_endpoints_json(c, "shop", "web", &json) == SVCROUTE_STATUS_OK);
    CHECK_HAS(json, "\"endpoints\":[{\"address\":\"10.244.1.5\",\"nodeName\":\"n1\",\"port\":8080,"
                    "\"ready\":true,\"serving\":true,\"terminating\":false,\"zone\":\"a\"},"
                    "{\"address\":\"10.244.2.6\"");
    svcroute_string_free(json);
    CHECK(svcroute_cluster_endpoints_json(c, "shop", "db", &json) == SVCROUTE_STATUS_OK);
    CHECK_HAS(json, "\"ready\":false");
    svcroute_string_free(json);
    json = NULL;
    CHECK(svcroute_cluster_endpoints_json(c, "shop", "nope", &json) == SVCROUTE_STATUS_NOT_FOUND);
    CHECK(json == NULL);
    svcroute_cluster_free(c);
}

/* A DNS query for NAME, type A, recursion desired; returns its length. */
static size_t dns_query(uint8_t *buf, uint16_t id, const char *name, uint16_t qtype) {
    size_t n = 0;
    buf[n++] = id >> 8;
    buf[n++] = id & 0xff;
    buf[n++] = 0x01; /* RD */
    buf[n++] = 0x00;
    buf[n++] = 0;
    buf[n++] = 1; /* QDCOUNT */
    memset(buf + n, 0, 6);
    n += 6;
    const char *label = name;
    while (*label != '\0') {
        const char *dot = strchr(label, '.');
        size_t len = dot ? (size_t)(dot - label) : strlen(label);
        buf[n++] = (uint8_t)len;
        memcpy(buf + n, label, len);
        n += len;
        label += len + (dot ? 1 : 0);
    }
    buf[n++] = 0;
    buf[n++] = qtype >> 8;
    buf[n++] = qtype & 0xff;
    buf[n++] = 0;
    buf[n++] = 1; /* IN */
    return n;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Skips a (possibly compressed) name at `p`; returns the offset after it. */
static size_t skip_name(const uint8_t *msg, size_t len, size_t p) {
    while (p < len) {
        uint8_t b = msg[p];
        if (b == 0) {
            return p + 1;
        }
        if ((b & 0xc0) == 0xc0) {
            return p + 2;
        }
        p += 1 + b;
    }
    return len;
}

static void test_dns(void) {
    svcroute_cluster *c = small_cluster("{\"bootstrap\": false}");
    uint8_t q[512];
    uint8_t resp[4096];
    size_t qlen = dns_query(q, 0x4242, "web.shop.svc.cluster.local", 1);
    size_t rlen = 0;
    CHECK(svcroute_dns_answer(c, q, qlen, resp, sizeof resp, &rlen) == SVCROUTE_STATUS_OK);
    CHECK(rlen > 12);
    CHECK(be16(resp) == 0x4242);
    CHECK((resp[2] & 0x80) != 0);    /* QR */
    CHECK((resp[2] & 0x04) != 0);    /* AA */
    CHECK((resp[3] & 0x0f) == 0);    /* NOERROR */
    CHECK(be16(resp + 4) == 1);      /* QDCOUNT */
    CHECK(be16(resp + 6) == 1);      /* ANCOUNT */
    size_t a_len = rlen;
    size_t p = skip_name(resp, rlen, 12) + 4;
    p = skip_name(resp, rlen, p);
    CHECK(p + 14 <= rlen);
    CHECK(be16(resp + p) == 1);      /* A */
    CHECK(be16(resp + p + 2) == 1);  /* IN */
    CHECK(be16(resp + p + 8) == 4);  /* RDLENGTH */
    char addr[INET_ADDRSTRLEN];
    CHECK(inet_ntop(AF_INET, resp + p + 10, addr, sizeof addr) != NULL);
    CHECK_STR(addr, "10.96.0.20");

    /* Over TCP the same answer. */
    size_t tlen = 0;
    uint8_t tcp[4096];
    CHECK(svcroute_dns_answer_tcp(c, q, qlen, tcp, sizeof tcp, &tlen) == SVCROUTE_STATUS_OK);
    CHECK(tlen == rlen && memcmp(tcp, resp, rlen) == 0);

    /* NXDOMAIN, with the SOA in the authority section. */
    qlen = dns_query(q, 7, "nope.shop.svc.cluster.local", 1);
    CHECK(svcroute_dns_answer(c, q, qlen, resp, sizeof resp, &rlen) == SVCROUTE_STATUS_OK);
    CHECK((resp[3] & 0x0f) == 3);
    CHECK(be16(resp + 6) == 0);
    CHECK(be16(resp + 8) == 1);

    /* A buffer too small: nothing written, the size needed told. */
    qlen = dns_query(q, 9, "web.shop.svc.cluster.local", 1);
    uint8_t small[16];
    memset(small, 0x5a, sizeof small);
    size_t need = 0;
    CHECK(svcroute_dns_answer(c, q, qlen, small, sizeof small, &need) ==
          SVCROUTE_STATUS_BUFFER_TOO_SMALL);
    CHECK(need == a_len);
    CHECK(small[0] == 0x5a);
    CHECK(svcroute_dns_answer(c, q, qlen, NULL, 0, &need) == SVCROUTE_STATUS_BUFFER_TOO_SMALL);
    CHECK(need > 12);

    /* Garbage: FORMERR, or no answer for what is no query. */
    uint8_t junk[20];
    memset(junk, 0xff, sizeof junk);
    junk[2] = 0x01;
    CHECK(svcroute_dns_answer(c, junk, sizeof junk, resp, sizeof resp, &rlen) == SVCROUTE_STATUS_OK);
    CHECK(rlen >= 12 && (resp[3] & 0x0f) == 1);
    CHECK(svcroute_dns_answer(c, junk, 5, resp, sizeof resp, &rlen) == SVCROUTE_STATUS_OK);
    CHECK(rlen == 0);
    CHECK(svcroute_dns_answer(c, NULL, 5, resp, sizeof resp, &rlen) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_dns_answer(c, q, qlen, resp, sizeof resp, NULL) == SVCROUTE_STATUS_NULL_ARGUMENT);
    svcroute_cluster_free(c);
}

static void test_errors(void) {
    svcroute_cluster *c = small_cluster("{\"bootstrap\": false}");
    svcroute_flow f = flow_to("10.244.1.9", "10.96.0.20", 80, "n1");
    svcroute_route_result r;
    memset(&r, 0, sizeof r);
    r.outcome = SVCROUTE_OUTCOME_CNAME;

    CHECK(svcroute_route(NULL, &f, 0, &r) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_route(c, NULL, 0, &r) == SVCROUTE_STATUS_NULL_ARGUMENT);
    CHECK(svcroute_route(c, &f, 0, NULL) == SVCROUTE_STATUS_NULL_ARGUMENT);
    char *msg = last_error();
    CHECK_STR(msg, "argument `out` is NULL");
    free(msg);

    f.node = "n\xff";
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_INVALID_UTF8);
    msg = last_error();
    CHECK_STR(msg, "argument `flow.node` is not valid UTF-8 (first bad byte at offset 1)");
    free(msg);
    f.node = "n9";
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_NOT_FOUND);
    msg = last_error();
    CHECK_STR(msg, "node n9 not found");
    free(msg);
    f.node = "n1";
    f.protocol = 7;
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_INVALID);
    msg = last_error();
    CHECK_STR(msg, "flow: protocol is 7; expected 6 (TCP), 17 (UDP), 132 (SCTP) or 256 (HTTP)");
    free(msg);
    f.protocol = SVCROUTE_PROTOCOL_TCP;
    f.destination.family = 5;
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_INVALID);
    f.destination.family = SVCROUTE_FAMILY_IPV4;
    f.source_kind = SVCROUTE_SOURCE_KIND_HOST;
    f.node = NULL;
    CHECK(svcroute_route(c, &f, 0, &r) == SVCROUTE_STATUS_NULL_ARGUMENT);
    /* Failures leave the result untouched. */
    CHECK(r.outcome == SVCROUTE_OUTCOME_CNAME);

    svcroute_address a;
    CHECK(svcroute_address_parse("fd00::1", &a) == SVCROUTE_STATUS_OK);
    CHECK(a.family == SVCROUTE_FAMILY_IPV6 && a.bytes[0] == 0xfd && a.bytes[15] == 1);
    CHECK(svcroute_address_parse("10.0.0.300", &a) == SVCROUTE_STATUS_PARSE);
    CHECK(svcroute_address_parse(NULL, &a) == SVCROUTE_STATUS_NULL_ARGUMENT);

    /* Bad YAML: the object and the field in the last error; nothing applied. */
    static const char BAD[] =
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata: {name: web, namespace: shop}\n"
        "spec:\n"
        "  clusterIP: 10.96.0.20\n"
        "  ports: [{port: eighty}]\n";
    char *changes = NULL;
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)BAD, strlen(BAD), &changes) ==
          SVCROUTE_STATUS_PARSE);
    CHECK(changes == NULL);
    msg = last_error();
    CHECK_HAS(msg, "Service shop/web");
    CHECK_HAS(msg, "spec.ports[0].port");
    free(msg);
    /* Invalid UTF-8 in the manifest. */
    static const char LATIN1[] = "kind: Service\nmetadata: {name: caf\xe9}\n";
    CHECK(svcroute_cluster_apply(c, (const uint8_t *)LATIN1, strlen(LATIN1), NULL) ==
          SVCROUTE_STATUS_INVALID_UTF8);
    /* The cluster still routes as before. */
    r = route(c, "10.244.1.9", "10.96.0.20", 80, "n1");
    CHECK(r.outcome == SVCROUTE_OUTCOME_FORWARD);
    svcroute_cluster_free(c);
}

int main(void) {
    test_outcomes();
    test_changes();
    test_algorithm_and_endpoints();
    test_dns();
    test_errors();
    printf("route: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
