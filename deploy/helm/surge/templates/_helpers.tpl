{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "surge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-wide prefix: "<release>-surge", or the release name if it already says surge. */}}
{{- define "surge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one service's objects. Call with (dict "root" $ "name" "order"). */}}
{{- define "surge.svcName" -}}
{{- printf "%s-%s" (include "surge.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "surge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels shared by every object. Call with the root context. */}}
{{- define "surge.labels" -}}
helm.sh/chart: {{ include "surge.chart" . }}
app.kubernetes.io/name: {{ include "surge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: surge
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "order"). */}}
{{- define "surge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "surge.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Full labels of one component. */}}
{{- define "surge.componentLabels" -}}
{{ include "surge.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The image reference: digest wins over tag; tag defaults to appVersion. */}}
{{- define "surge.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The env var prefix of a service: SURGE_<NAME>_. */}}
{{- define "surge.envPrefix" -}}
{{- printf "SURGE_%s_" (upper .) }}
{{- end }}

{{/*
Non-secret configuration of one service, as a YAML map. Used for the service's ConfigMap and,
inline, for its migration Job (a pre-install hook runs before the ConfigMap exists).
Call with (dict "root" $ "name" "order" "svc" $svc).
*/}}
{{- define "surge.configData" -}}
{{- $p := include "surge.envPrefix" .name -}}
{{- $root := .root -}}
{{ $p }}LOG_LEVEL: {{ .svc.logLevel | quote }}
{{- if ne .name "gateway" }}
{{ $p }}GRPC_HOST: "0.0.0.0"
{{ $p }}GRPC_PORT: "50051"
{{ $p }}METRICS_PORT: "9090"
{{- end }}
{{- if not $root.Values.nats.existingSecret.name }}
{{ $p }}NATS_URL: {{ $root.Values.nats.url | quote }}
{{- end }}
{{- if eq .name "gateway" }}
{{ $p }}HTTP_HOST: "0.0.0.0"
{{ $p }}HTTP_PORT: "8080"
{{- range $dep := list "order" "inventory" "fulfillment" "billing" }}
{{ $p }}{{ upper $dep }}_ADDR: {{ printf "%s:50051" (include "surge.svcName" (dict "root" $root "name" $dep)) | quote }}
{{- end }}
{{- end }}
{{- with $root.Values.otel.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- range $k, $v := .svc.env }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}

{{/* Env vars read from Secrets (database URL, NATS URL, JWT key). */}}
{{- define "surge.secretEnv" -}}
{{- $p := include "surge.envPrefix" .name -}}
- name: {{ $p }}DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .svc.database.existingSecret }}
      key: {{ .svc.database.key }}
{{- if .root.Values.nats.existingSecret.name }}
- name: {{ $p }}NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.nats.existingSecret.name }}
      key: {{ .root.Values.nats.existingSecret.key }}
{{- end }}
{{- if and (eq .name "gateway") .svc.jwtPublicKey }}
- name: {{ $p }}JWT_PUBLIC_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .svc.jwtPublicKey.existingSecret }}
      key: {{ .svc.jwtPublicKey.key }}
{{- end }}
{{- end }}

{{/* Restricted pod securityContext (Pod Security Standards "restricted"). */}}
{{- define "surge.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Restricted container securityContext. */}}
{{- define "surge.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}
