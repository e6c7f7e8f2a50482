/*
 * The load summary through the C door (issue 14): after
 * svcroute_cluster_apply_summary, the same line and namespace warnings as
 * the command line; a refused load leaves the out-parameters alone and the
 * cluster usable.
 *
 * Built and run by tests/tests/c_api.rs (gcc -std=c11 -Wall -Wextra
 * -Werror -pedantic), under valgrind by .ci/test.
 */
#include "svcroute.h"

#include "check.h"

static const char BUNDLE[] =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata: {name: web, namespace: shop}\n"
    "spec:\n"
    "  replicas: 3\n"
    "  selector: {matchLabels: {app: web}}\n"
    "  template:\n"
    "    metadata: {labels: {app: web}}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: ServiceAccount\n"
    "metadata: {name: web, namespace: shop}\n";

static void summary_line(void) {
    svcroute_cluster *c = NULL;
    CHECK(svcroute_cluster_new("{\"defaultNodes\": 3}", &c) == SVCROUTE_STATUS_OK);
    char *summary = NULL;
    CHECK(svcroute_cluster_apply_summary(c, (const uint8_t *)BUNDLE, strlen(BUNDLE),
                                         NULL, &summary) == SVCROUTE_STATUS_OK);
    CHECK_HAS(summary, "\"line\":\"read 1 object (1 Deployment); generated 1 ReplicaSet "
                       "and 3 Pods; skipped 1 object of kinds svcroute does not model "
                       "(ServiceAccount)\"");
    CHECK_HAS(summary, "\"namespace\":\"shop\"");
    CHECK_HAS(summary, "warning: namespace \\\"shop\\\" not found");
    svcroute_string_free(summary);

    /* A refused load: status, last error, out-parameters untouched. */
    static const char BAD[] = "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
                              "spec: {ports: [{port: 99999}]}\n";
    char *changes = NULL;
    summary = NULL;
    CHECK(svcroute_cluster_apply_summary(c, (const uint8_t *)BAD, strlen(BAD), &changes,
                                         &summary) != SVCROUTE_STATUS_OK);
    CHECK(changes == NULL && summary == NULL);
    char *err = last_error();
    CHECK_HAS(err, "spec.ports[0].port");
    svcroute_string_free(err);
    svcroute_cluster_free(c);
}

int main(void) {
    (void)read_data; /* from check.h, unused here */
    summary_line();
    printf("summary: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
