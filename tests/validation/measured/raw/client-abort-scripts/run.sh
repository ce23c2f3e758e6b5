#!/bin/bash
# run.sh CASE TRIAL : one trial of a case; raw CSVs in /tmp/abortm/out/CASE/
set -u
CASE=$1; K=$2; D=/tmp/abortm/out/$CASE; mkdir -p $D; cd /tmp/abortm
LB=127.0.0.60; BE=127.0.0.61
case $CASE in
  haproxy-queue-client-gone|haproxy-queue-abortonclose)
    ABRT=""; [ $CASE = haproxy-queue-abortonclose ] && ABRT="    option abortonclose"
    cat > $D/haproxy.cfg <<CFG
global
    maxconn 1000
defaults
    mode http
    log stdout format raw local0
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout queue 30s
    retries 3
$ABRT
listen web
    bind $LB:26000
    balance roundrobin
    server s1 $BE:26001 maxconn 2
CFG
    python3 backend.py $BE 26001 0.1 $D/backend-$K.csv & BP=$!
    sleep 0.5
    haproxy -f $D/haproxy.cfg -db > $D/haproxy-$K.log 2>&1 & HP=$!
    sleep 0.5
    python3 client.py $LB 26000 2 10 30.0 $D/patient-$K.csv 100000 & PC=$!
    python3 client.py $LB 26000 40 10 1.0 $D/client-$K.csv
    wait $PC
    sleep 3
    kill $HP; kill -TERM $BP; wait $BP; wait $HP ;;
  nginx-client-gone|nginx-ignore-client-abort)
    IGN=""; [ $CASE = nginx-ignore-client-abort ] && IGN="proxy_ignore_client_abort on;"
    mkdir -p $D/ng/logs
    cat > $D/ng/nginx.conf <<CFG
worker_processes 1;
daemon off;
pid $D/ng/nginx.pid;
error_log $D/ng/logs/error.log;
events { worker_connections 1024; }
http {
    access_log $D/ng/logs/access-$K.log;
    client_body_temp_path $D/ng/cb; proxy_temp_path $D/ng/pt;
    fastcgi_temp_path $D/ng/ft; uwsgi_temp_path $D/ng/ut; scgi_temp_path $D/ng/st;
    upstream b { server $BE:26001; }
    server {
        listen $LB:26002;
        location / { proxy_pass http://b; proxy_read_timeout 30s; $IGN }
    }
}
CFG
    python3 backend.py $BE 26001 1.5 $D/backend-$K.csv & BP=$!
    sleep 0.5
    nginx -p $D/ng -c $D/ng/nginx.conf -e $D/ng/logs/error.log & NP=$!
    sleep 0.5
    python3 client.py $LB 26002 10 10 1.0 $D/client-$K.csv
    sleep 3
    kill -QUIT $NP; kill -TERM $BP; wait $BP; wait $NP ;;
esac
echo done $CASE $K
