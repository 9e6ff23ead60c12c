# O2O's processes, built from this repository. One image per process:
#   docker build --target worker  -t o2o-worker .
#   docker build --target webhook -t o2o-webhook .
# docker-compose.yml builds both.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./worker ./webhook ./starter

FROM gcr.io/distroless/static-debian12:nonroot AS worker
COPY --from=build /out/worker /out/starter /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/worker"]

FROM gcr.io/distroless/static-debian12:nonroot AS webhook
COPY --from=build /out/webhook /usr/local/bin/
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/webhook"]
