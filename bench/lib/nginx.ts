// The nginx configuration the benchmarks compare certgate's gateway with.
import { join } from 'node:path';

/**
 * nginx as a fair mTLS proxy beside certgate's gateway: the same server certificate and client CA (server.pem,
 * server.key, ca.pem in `dir`), the same bearer-key check, the upstream key put in Authorization, a keep-alive pool
 * to the same upstream. Temporary paths under dir/nginx (which must exist).
 */
export function nginxConfig(dir: string, o: { port: number; upstreamPort: number; projectKey: string; upstreamKey: string; workers: number; workerConnections?: number }): string {
  const f = (name: string) => join(dir, name);
  return `# written by a certgate benchmark for this run only
daemon off;
master_process on;
worker_processes ${o.workers};
pid ${f('nginx/nginx.pid')};
error_log ${f('nginx/error.log')} warn;
events { worker_connections ${o.workerConnections ?? 4096}; }
http {
  access_log off;
  map_hash_bucket_size 128;
  client_body_temp_path ${f('nginx/body')};
  proxy_temp_path ${f('nginx/proxy')};
  fastcgi_temp_path ${f('nginx/fastcgi')};
  uwsgi_temp_path ${f('nginx/uwsgi')};
  scgi_temp_path ${f('nginx/scgi')};
  # the same check certgate makes of the bearer key (here: one known key)
  map $http_authorization $bench_key_ok {
    default 0;
    "Bearer ${o.projectKey}" 1;
  }
  upstream bench_upstream {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${o.port} ssl;
    server_name localhost;
    ssl_certificate ${f('server.pem')};
    ssl_certificate_key ${f('server.key')};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate ${f('ca.pem')};
    ssl_verify_client on;
    ssl_verify_depth 2;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    location / {
      if ($bench_key_ok = 0) { return 401 '{"error":{"code":"invalid_api_key"}}'; }
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer ${o.upstreamKey}";
      proxy_set_header X-Request-Id $request_id;
      add_header X-Request-Id $request_id always;
    }
  }
}
`;
}
