/*
 * tcp_proxy: a small real TCP proxy that places connections as kube-proxy
 * would, with svcroute.
 *
 *   tcp_proxy MANIFEST NODE LISTEN=VIP:PORT [LISTEN=VIP:PORT ...]
 *
 * MANIFEST is a YAML or JSON file of Kubernetes objects (Nodes, Pods,
 * Services...). For each LISTEN=VIP:PORT the proxy listens on
 * 127.0.0.1:LISTEN (0: a free port), standing for the Service address
 * VIP:PORT; an IPv6 VIP is written in brackets, LISTEN=[VIP]:PORT, and
 * listened for on [::1]:LISTEN. Clients and endpoints may be IPv4 or IPv6. For every connection it asks svcroute where a packet from the
 * client, arriving at node NODE, to VIP:PORT goes; on "forward" it
 * connects to the endpoint chosen and relays bytes both ways until both
 * sides are done; on anything else (reject: no ready endpoint; drop;
 * no such service) it refuses the connection with a reset.
 *
 * It prints one line per listener, "listening 127.0.0.1:P for VIP:PORT" (or
 * "listening [::1]:P for [VIP]:PORT"),
 * then "ready", and logs each connection on stderr. SIGINT or SIGTERM
 * stops it: it closes its listeners, waits for open connections to end
 * and frees the cluster.
 *
 * Build (see tests/tests/c_api.rs, which runs it end to end):
 *   gcc -std=c11 -Wall -Wextra -Werror -pedantic -pthread \
 *       -I bindings/c/include bindings/c/examples/tcp_proxy.c \
 *       -L target/debug -lsvcroute_c -o tcp_proxy
 */
#define _POSIX_C_SOURCE 200809L

#include "svcroute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 16

struct listener {
    int fd;
    svcroute_address vip;
    uint16_t vip_port;
    char vip_text[80];
};

struct connection {
    int client;
    struct listener *listener;
};

static svcroute_cluster *cluster;
static const char *node;
static volatile sig_atomic_t stopping;
static atomic_int open_connections;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void die_with_last_error(const char *what) {
    char *msg = svcroute_last_error_message_dup();
    fprintf(stderr, "tcp_proxy: %s: %s\n", what, msg ? msg : "?");
    svcroute_string_free(msg);
    svcroute_cluster_free(cluster);
    exit(2);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "tcp_proxy: out of memory\n");
        exit(2);
    }
    *len = n;
    return buf;
}

/* Refuses a connection with a reset, as a rejected SYN would be. */
static void refuse(int fd) {
    struct linger lin = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
    close(fd);
}

/* Relays bytes between a and b until both directions are closed. */
static void relay(int a, int b) {
    char buf[16384];
    int open_ab = 1, open_ba = 1;
    while (open_ab || open_ba) {
        struct pollfd p[2] = {{.fd = open_ab ? a : -1, .events = POLLIN},
                              {.fd = open_ba ? b : -1, .events = POLLIN}};
        if (poll(p, 2, 1000) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || (p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            int from = i == 0 ? a : b, to = i == 0 ? b : a;
            ssize_t n = read(from, buf, sizeof buf);
            if (n <= 0) {
                shutdown(to, SHUT_WR);
                if (i == 0) {
                    open_ab = 0;
                } else {
                    open_ba = 0;
                }
                continue;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w <= 0) {
                    return;
                }
                off += w;
            }
        }
    }
}

static void *serve(void *arg) {
    struct connection conn = *(struct connection *)arg;
    free(arg);

    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    svcroute_flow flow;
    memset(&flow, 0, sizeof flow);
    flow.source_kind = SVCROUTE_SOURCE_KIND_PACKET;
    flow.protocol = SVCROUTE_PROTOCOL_TCP;
    flow.options = SVCROUTE_ROUTE_ENDPOINT_TEXT; /* for the log lines */
    flow.destination = conn.listener->vip;
    flow.destination_port = conn.listener->vip_port;
    flow.node = node;
    if (getpeername(conn.client, (struct sockaddr *)&peer, &peer_len) == 0 &&
        peer.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&peer;
        flow.source.family = SVCROUTE_FAMILY_IPV4;
        memcpy(flow.source.bytes, &in->sin_addr, 4);
        flow.source_port = ntohs(in->sin_port);
    } else if (peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&peer;
        flow.source.family = SVCROUTE_FAMILY_IPV6;
        memcpy(flow.source.bytes, &in6->sin6_addr, 16);
        flow.source_port = ntohs(in6->sin6_port);
    }

    svcroute_route_result r;
    svcroute_status s = svcroute_route(cluster, &flow, now_ms(), &r);
    if (s != SVCROUTE_STATUS_OK) {
        char *msg = svcroute_last_error_message_dup();
        fprintf(stderr, "tcp_proxy: route to %s: %s\n", conn.listener->vip_text, msg);
        svcroute_string_free(msg);
        refuse(conn.client);
    } else if (r.outcome != SVCROUTE_OUTCOME_FORWARD) {
        fprintf(stderr, "tcp_proxy: %s: %s, refused\n", conn.listener->vip_text,
                svcroute_outcome_name(r.outcome));
        refuse(conn.client);
    } else {
        struct sockaddr_storage to;
        socklen_t to_len;
        memset(&to, 0, sizeof to);
        if (r.endpoint.family == SVCROUTE_FAMILY_IPV4) {
            struct sockaddr_in *in = (struct sockaddr_in *)&to;
            in->sin_family = AF_INET;
            in->sin_port = htons(r.endpoint_port);
            memcpy(&in->sin_addr, r.endpoint.bytes, 4);
            to_len = sizeof *in;
        } else {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&to;
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(r.endpoint_port);
            memcpy(&in6->sin6_addr, r.endpoint.bytes, 16);
            to_len = sizeof *in6;
        }
        int backend = socket(to.ss_family, SOCK_STREAM, 0);
        if (backend < 0 || connect(backend, (struct sockaddr *)&to, to_len) != 0) {
            fprintf(stderr, "tcp_proxy: %s -> %s: connect: %s\n", conn.listener->vip_text,
                    r.endpoint_text, strerror(errno));
            if (backend >= 0) {
                close(backend);
            }
            refuse(conn.client);
        } else {
            fprintf(stderr, "tcp_proxy: %s -> %s%s\n", conn.listener->vip_text, r.endpoint_text,
                    r.masquerade ? " (masquerade)" : "");
            relay(conn.client, backend);
            close(backend);
            close(conn.client);
        }
    }
    atomic_fetch_sub(&open_connections, 1);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MANIFEST NODE LISTEN=VIP:PORT [LISTEN=VIP:PORT ...]\n", argv[0]);
        return 2;
    }
    node = argv[2];
    if (svcroute_cluster_new(NULL, &cluster) != SVCROUTE_STATUS_OK) {
        die_with_last_error("config");
    }
    size_t len = 0;
    char *manifest = read_file(argv[1], &len);
    svcroute_status s = svcroute_cluster_apply(cluster, (const uint8_t *)manifest, len, NULL);
    free(manifest);
    if (s != SVCROUTE_STATUS_OK) {
        die_with_last_error(argv[1]);
    }

    struct listener listeners[MAX_LISTENERS];
    int n = 0;
    for (int i = 3; i < argc && n < MAX_LISTENERS; i++, n++) {
        struct listener *l = &listeners[n];
        char vip[64];
        unsigned listen_port = 0, vip_port = 0;
        int v6 = sscanf(argv[i], "%u=[%63[^]]]:%u", &listen_port, vip, &vip_port) == 3;
        if ((!v6 && sscanf(argv[i], "%u=%63[^:]:%u", &listen_port, vip, &vip_port) != 3) ||
            listen_port > 65535 || vip_port == 0 || vip_port > 65535) {
            fprintf(stderr, "tcp_proxy: %s: expected LISTEN=VIP:PORT or LISTEN=[VIP]:PORT\n",
                    argv[i]);
            return 2;
        }
        if (svcroute_address_parse(vip, &l->vip) != SVCROUTE_STATUS_OK) {
            die_with_last_error(argv[i]);
        }
        if ((l->vip.family == SVCROUTE_FAMILY_IPV6) != v6) {
            fprintf(stderr, "tcp_proxy: %s: write an IPv6 VIP, and only one, in brackets\n",
                    argv[i]);
            return 2;
        }
        l->vip_port = (uint16_t)vip_port;
        snprintf(l->vip_text, sizeof l->vip_text, v6 ? "[%s]:%u" : "%s:%u", vip, vip_port);
        l->fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_storage addr;
        memset(&addr, 0, sizeof addr);
        socklen_t addr_len;
        if (v6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)listen_port);
            in6->sin6_addr = in6addr_loopback;
            addr_len = sizeof *in6;
        } else {
            struct sockaddr_in *in = (struct sockaddr_in *)&addr;
            in->sin_family = AF_INET;
            in->sin_port = htons((uint16_t)listen_port);
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            addr_len = sizeof *in;
        }
        if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&addr, addr_len) != 0 ||
            listen(l->fd, 128) != 0 ||
            getsockname(l->fd, (struct sockaddr *)&addr, &addr_len) != 0) {
            perror("tcp_proxy: listen");
            return 2;
        }
        if (v6) {
            printf("listening [::1]:%u for %s\n",
                   ntohs(((struct sockaddr_in6 *)&addr)->sin6_port), l->vip_text);
        } else {
            printf("listening 127.0.0.1:%u for %s\n",
                   ntohs(((struct sockaddr_in *)&addr)->sin_port), l->vip_text);
        }
    }
    printf("ready\n");
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    while (!stopping) {
        struct pollfd p[MAX_LISTENERS];
        for (int i = 0; i < n; i++) {
            p[i] = (struct pollfd){.fd = listeners[i].fd, .events = POLLIN};
        }
        if (poll(p, (nfds_t)n, 200) <= 0) {
            continue;
        }
        for (int i = 0; i < n; i++) {
            if ((p[i].revents & POLLIN) == 0) {
                continue;
            }
            int client = accept(listeners[i].fd, NULL, NULL);
            if (client < 0) {
                continue;
            }
            struct connection *conn = malloc(sizeof *conn);
            pthread_t thread;
            if (conn == NULL) {
                refuse(client);
                continue;
            }
            conn->client = client;
            conn->listener = &listeners[i];
            atomic_fetch_add(&open_connections, 1);
            if (pthread_create(&thread, NULL, serve, conn) != 0) {
                atomic_fetch_sub(&open_connections, 1);
                free(conn);
                refuse(client);
                continue;
            }
            pthread_detach(thread);
        }
    }
    for (int i = 0; i < n; i++) {
        close(listeners[i].fd);
    }
    while (atomic_load(&open_connections) > 0) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
        nanosleep(&ts, NULL);
    }
    svcroute_cluster_free(cluster);
    fprintf(stderr, "tcp_proxy: stopped\n");
    return 0;
}
