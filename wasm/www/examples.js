// The example clusters of the playground: each tells one story of Service
// networking. Most are plain Pods with IPs and nodes; the bundle example is
// Deployments only, whose Pods the engine makes and places on default
// nodes, as `svcroute -f bundle.yaml` does.

const nodes = (...names) => names.map((n, i) => `apiVersion: v1
kind: Node
metadata:
  name: ${n}
  labels: {topology.kubernetes.io/zone: zone-${String.fromCharCode(97 + i)}}
status:
  addresses: [{type: InternalIP, address: 192.168.0.${11 + i}}]
`).join("---\n");

const pod = (ns, name, ip, node, labels, { ready = true, port = 8080, terminating = false } = {}) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels: {${Object.entries(labels).map(([k, v]) => `${k}: "${v}"`).join(", ")}}${terminating ? "\n  deletionTimestamp: \"2026-01-01T00:00:00Z\"" : ""}
spec:
  nodeName: ${node}
  containers: [{name: main, ports: [{name: http, containerPort: ${port}}]}]
status:
  phase: Running
  podIP: ${ip}
  podIPs: [{ip: ${ip}}]
  conditions: [{type: Ready, status: "${ready ? "True" : "False"}"}]
`;

const ns = (name) => `apiVersion: v1
kind: Namespace
metadata: {name: ${name}}
`;

const critic = (version, replicas) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: critic-${version}
  namespace: bookshop
  labels: {app: critic, version: ${version}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: critic, version: ${version}}
  template:
    metadata:
      labels: {app: critic, version: ${version}}
    spec:
      serviceAccountName: critic
      containers:
      - name: critic
        image: example.org/critic:${version.slice(1)}.0.0
        ports: [{name: http, containerPort: 9080}]
`;

export const EXAMPLES = [
  {
    id: "frontend-backend",
    title: "Frontend and backend over ClusterIP",
    story: "A React frontend calls a Go backend by its Service name. The backend Service selects app=backend; its ClusterIP spreads connections over the three ready pods.",
    yaml: [
      ns("shop"), nodes("node-a", "node-b"),
      pod("shop", "frontend-1", "10.244.0.10", "node-a", { app: "frontend", tier: "web" }, { port: 3000 }),
      pod("shop", "frontend-2", "10.244.1.10", "node-b", { app: "frontend", tier: "web" }, { port: 3000 }),
      pod("shop", "backend-1", "10.244.0.21", "node-a", { app: "backend", tier: "api" }),
      pod("shop", "backend-2", "10.244.1.22", "node-b", { app: "backend", tier: "api" }),
      pod("shop", "backend-3", "10.244.1.23", "node-b", { app: "backend", tier: "api" }),
      `apiVersion: v1
kind: Service
metadata: {name: frontend, namespace: shop}
spec:
  clusterIP: 10.96.10.10
  selector: {app: frontend}
  ports: [{name: http, port: 80, targetPort: http}]
`,
      `apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec:
  clusterIP: 10.96.10.20
  selector: {app: backend}
  ports: [{name: http, port: 8080, targetPort: http}]
`,
    ].join("---\n"),
    traffic: { source: "shop/frontend-1", service: "shop/backend" },
    dns: { pod: "shop/frontend-1", name: "backend" },
  },
  {
    id: "nodeport-lb",
    title: "NodePort and LoadBalancer from outside",
    story: "Clients outside the cluster reach a NodePort on any node's address, or the load balancer's IP. With externalTrafficPolicy: Local only nodes with a ready pod answer, and the client IP is kept.",
    yaml: [
      ns("web"), nodes("node-a", "node-b", "node-c"),
      pod("web", "site-1", "10.244.0.31", "node-a", { app: "site" }),
      pod("web", "site-2", "10.244.1.32", "node-b", { app: "site" }),
      `apiVersion: v1
kind: Service
metadata: {name: site-nodeport, namespace: web}
spec:
  clusterIP: 10.96.20.10
  type: NodePort
  selector: {app: site}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
`,
      `apiVersion: v1
kind: Service
metadata: {name: site-lb, namespace: web}
spec:
  clusterIP: 10.96.20.20
  type: LoadBalancer
  healthCheckNodePort: 32000
  externalTrafficPolicy: Local
  selector: {app: site}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30081}]
status:
  loadBalancer:
    ingress: [{ip: 203.0.113.10}]
`,
    ].join("---\n"),
    traffic: { source: "external", service: "web/site-nodeport" },
    dns: { pod: "web/site-1", name: "site-lb" },
  },
  {
    id: "externalname",
    title: "ExternalName to an outside API",
    story: "The payments Service has no pods: it is a DNS alias (CNAME) for an API outside the cluster. kube-proxy writes no rules for it; the client resolves the name and connects out.",
    yaml: [
      ns("billing"), nodes("node-a"),
      pod("billing", "invoicer", "10.244.0.41", "node-a", { app: "invoicer" }),
      `apiVersion: v1
kind: Service
metadata: {name: payments, namespace: billing}
spec:
  type: ExternalName
  externalName: api.payments.example.com
`,
    ].join("---\n"),
    traffic: { source: "billing/invoicer", service: "billing/payments" },
    dns: { pod: "billing/invoicer", name: "payments" },
  },
  {
    id: "ingress",
    title: "Three hosts through one Ingress",
    story: "One Ingress of the default class sends shop.example.com, blog.example.com and api.example.com to three Services, each with its own pods.",
    yaml: [
      ns("sites"), nodes("node-a", "node-b"),
      pod("sites", "shop-1", "10.244.0.51", "node-a", { app: "shop" }),
      pod("sites", "blog-1", "10.244.1.52", "node-b", { app: "blog" }),
      pod("sites", "api-1", "10.244.0.53", "node-a", { app: "api" }),
      pod("sites", "api-2", "10.244.1.54", "node-b", { app: "api" }),
      ...["shop", "blog", "api"].map((s) => `apiVersion: v1
kind: Service
metadata: {name: ${s}, namespace: sites}
spec:
  clusterIP: 10.96.30.${({ shop: 10, blog: 20, api: 30 })[s]}
  selector: {app: ${s}}
  ports: [{name: http, port: 80, targetPort: http}]
`),
      `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
`,
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: sites, namespace: sites}
spec:
  rules:
${["shop", "blog", "api"].map((s) => `  - host: ${s}.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: ${s}, port: {number: 80}}}}`).join("\n")}
`,
    ].join("---\n"),
    traffic: { source: "external", service: "sites/api" },
    dns: { pod: "sites/shop-1", name: "api" },
  },
  {
    id: "rollout",
    title: "A rollout: 1.3 and 1.4, then only 1.4",
    story: "During a rollout the Service selects app=checkout, so it balances over both versions. Make the 1.3 pods not ready (or load the next example) and only 1.4 is left.",
    yaml: [
      ns("store"), nodes("node-a", "node-b"),
      pod("store", "checkout-v13-1", "10.244.0.61", "node-a", { app: "checkout", version: "1.3" }),
      pod("store", "checkout-v13-2", "10.244.1.62", "node-b", { app: "checkout", version: "1.3" }),
      pod("store", "checkout-v14-1", "10.244.0.63", "node-a", { app: "checkout", version: "1.4" }),
      pod("store", "checkout-v14-2", "10.244.1.64", "node-b", { app: "checkout", version: "1.4" }),
      pod("store", "cart", "10.244.0.65", "node-a", { app: "cart" }),
      `apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: store}
spec:
  clusterIP: 10.96.40.10
  selector: {app: checkout}
  ports: [{name: http, port: 80, targetPort: http}]
`,
    ].join("---\n"),
    traffic: { source: "store/cart", service: "store/checkout" },
    dns: { pod: "store/cart", name: "checkout" },
  },
  {
    id: "rollout-done",
    title: "The rollout done: only 1.4 serves",
    story: "The 1.3 pods are terminating: their endpoints stay in the EndpointSlice as terminating, not ready, so new connections go to 1.4 only.",
    yaml: [
      ns("store"), nodes("node-a", "node-b"),
      pod("store", "checkout-v13-1", "10.244.0.61", "node-a", { app: "checkout", version: "1.3" }, { ready: false, terminating: true }),
      pod("store", "checkout-v13-2", "10.244.1.62", "node-b", { app: "checkout", version: "1.3" }, { ready: false, terminating: true }),
      pod("store", "checkout-v14-1", "10.244.0.63", "node-a", { app: "checkout", version: "1.4" }),
      pod("store", "checkout-v14-2", "10.244.1.64", "node-b", { app: "checkout", version: "1.4" }),
      pod("store", "cart", "10.244.0.65", "node-a", { app: "cart" }),
      `apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: store}
spec:
  clusterIP: 10.96.40.10
  selector: {app: checkout}
  ports: [{name: http, port: 80, targetPort: http}]
`,
    ].join("---\n"),
    traffic: { source: "store/cart", service: "store/checkout" },
    dns: { pod: "store/cart", name: "checkout" },
  },
  {
    id: "no-match",
    title: "A Service whose selector matches nothing",
    story: "The Service selects app=paymnts, a typo: no pod has that label, so it has no endpoints and connections are rejected. Hover a pod to see which label it misses.",
    yaml: [
      ns("pay"), nodes("node-a"),
      pod("pay", "payments-1", "10.244.0.71", "node-a", { app: "payments" }),
      pod("pay", "payments-2", "10.244.0.72", "node-a", { app: "payments" }),
      pod("pay", "client", "10.244.0.73", "node-a", { app: "client" }),
      `apiVersion: v1
kind: Service
metadata: {name: payments, namespace: pay}
spec:
  clusterIP: 10.96.50.10
  selector: {app: paymnts}
  ports: [{name: http, port: 80, targetPort: http}]
`,
    ].join("---\n"),
    traffic: { source: "pay/client", service: "pay/payments" },
    dns: { pod: "pay/client", name: "payments" },
  },
  {
    id: "bundle",
    title: "A bundle: three versions behind one Service",
    story: "An app as it is shipped: Deployments and a Service, no Pods, no Nodes, and kinds svcroute does not model. The engine makes the Pods and places them on three default nodes, as the CLI does. One Service selects the pods of critic v1, v2 and v3, so traffic splits about a third each: scale a version and watch the split change.",
    yaml: [
      ns("bookshop"),
      `apiVersion: v1
kind: ServiceAccount
metadata: {name: critic, namespace: bookshop}
`,
      `apiVersion: v1
kind: ConfigMap
metadata: {name: critic-settings, namespace: bookshop}
data: {stars: "5"}
`,
      `apiVersion: v1
kind: Service
metadata:
  name: critic
  namespace: bookshop
  labels: {app: critic}
spec:
  selector: {app: critic}
  ports: [{name: http, port: 9080, targetPort: http}]
`,
      critic("v1", 1), critic("v2", 1), critic("v3", 1),
    ].join("---\n"),
    traffic: { service: "bookshop/critic" },
    dns: { name: "critic" },
  },
];
