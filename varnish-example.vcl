# Portus behind Varnish 7: the backend is the web server that serves Portus
# and, through portus-health, its health routes (nginx-example.conf on
# 127.0.0.1:8080).  A probe of /api/v1/health takes the backend out while
# Portus cannot work (503: a component is down) and puts it back when it
# can.  The health routes go to the same server through a backend without
# a probe, so that they answer meanwhile, and are never cached.
# On Debian: /etc/varnish/default.vcl, then `systemctl reload varnish`.

vcl 4.1;

probe portus_health {
    .url = "/api/v1/health";
    .expected_response = 200;
    .interval = 2s;
    # Above health.timeout (5 s): a hanging dependency is a 503, not a timeout.
    .timeout = 6s;
    # Sick after two failures among the last three probes.
    .window = 3;
    .threshold = 2;
}

backend portus {
    .host = "127.0.0.1";
    .port = "8080";
    .probe = portus_health;
}

backend portus_health_routes {
    .host = "127.0.0.1";
    .port = "8080";
}

sub vcl_recv {
    if (req.url ~ "^(/portus)?/(_ping|_health|_metrics|api/v1/_ping|api/v1/health)(/|\?|$)") {
        set req.backend_hint = portus_health_routes;
        return (pass);
    }
    set req.backend_hint = portus;
}
