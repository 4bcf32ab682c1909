import { fileURLToPath } from "node:url";

/** Where the vendored schemas live (see schemas/README.md). */
export const SCHEMA_DIR = fileURLToPath(new URL("schemas/", import.meta.url));

/** Kubernetes 1.35 kinds the manifests use, by their file in kubernetes-json-schema. */
export const KUBERNETES_KINDS = [
  { apiVersion: "v1", kind: "ConfigMap", file: "configmap-v1.json" },
  { apiVersion: "v1", kind: "PersistentVolumeClaim", file: "persistentvolumeclaim-v1.json" },
  { apiVersion: "apps/v1", kind: "Deployment", file: "deployment-apps-v1.json" },
  // Not a kind of its own: what a ContainerSource's spec.template is checked against.
  { apiVersion: "", kind: "PodTemplateSpec", file: "podtemplatespec-v1.json" },
] as const;

/** Knative 1.22 kinds, by the CRD file they come from. */
export const KNATIVE_KINDS = [
  {
    apiVersion: "sources.knative.dev/v1",
    kind: "ContainerSource",
    crd: "containersource.yaml",
    file: "containersource-sources-v1.json",
  },
  {
    apiVersion: "sources.knative.dev/v1",
    kind: "SinkBinding",
    crd: "sinkbindings.yaml",
    file: "sinkbinding-sources-v1.json",
  },
  {
    apiVersion: "eventing.knative.dev/v1",
    kind: "Broker",
    crd: "broker.yaml",
    file: "broker-eventing-v1.json",
  },
  {
    apiVersion: "eventing.knative.dev/v1",
    kind: "Trigger",
    crd: "trigger.yaml",
    file: "trigger-eventing-v1.json",
  },
  {
    apiVersion: "serving.knative.dev/v1",
    kind: "Service",
    crd: "service.yaml",
    file: "service-serving-v1.json",
  },
] as const;
