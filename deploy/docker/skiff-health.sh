#!/bin/bash
# Docker health check: GET /health on the admin port must answer 200 (broker registered).
# Plain bash (/dev/tcp), so the base image needs no HTTP client.
port=${SKIFF_ADMIN_PORT:-9644}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
read -r -t 4 _ status _ <&3 || exit 1
[ "$status" = 200 ]
