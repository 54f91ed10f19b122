"""A real PostgreSQL and a real nginx for the multi-node tests, as the tests' own processes on
loopback (no system service): PostgreSQL from initdb in a temporary folder (as the `postgres`
user when the tests run as root, since PostgreSQL refuses root), nginx with deploy/nginx's site
file, its upstream pointed at the nodes the test started.
"""

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NGINX_SITE = os.path.join(ROOT, "deploy", "nginx", "liveproof.conf")
NGINX_NODES = os.path.join(ROOT, "deploy", "nginx", "liveproof-nodes.conf")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return dirs[-1] if dirs and os.access(os.path.join(dirs[-1], "initdb"), os.X_OK) else None


def require_cluster_tools():
    if pg_bin() is None:
        raise unittest.SkipTest("PostgreSQL is not installed (scripts/setup.sh installs it)")
    if shutil.which("nginx") is None and not os.access("/usr/sbin/nginx", os.X_OK):
        raise unittest.SkipTest("nginx is not installed (scripts/setup.sh installs it)")


class Postgres:
    """One PostgreSQL server in a temporary folder on a free loopback port."""

    def __init__(self):
        self.bin = pg_bin()
        self.dir = tempfile.mkdtemp(prefix="liveproof-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self):
        return f"postgresql://liveproof@127.0.0.1:{self.port}/liveproof"

    def _run(self, *args, check=True):
        return subprocess.run([*self.as_user, *args], check=check, timeout=120,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def init(self):
        self._run(os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust", "-U",
                  "liveproof", "-E", "UTF8")
        self.start()
        self._run(os.path.join(self.bin, "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "liveproof", "liveproof")
        return self

    def start(self):
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l",
                  os.path.join(self.dir, "server.log"), "-w", "-t", "60", "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}", "start")

    def stop(self, mode="fast"):
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop",
                  check=False)

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Nginx:
    """nginx in the foreground with deploy/nginx/liveproof.conf and its liveproof-nodes.conf
    pointed at the given ports."""

    def __init__(self, node_ports):
        self.dir = tempfile.mkdtemp(prefix="liveproof-nginx-")
        os.chmod(self.dir, 0o777)  # the workers run as an unprivileged user under root
        self.port = free_port()
        with open(NGINX_SITE) as f:
            site = f.read()
        with open(NGINX_NODES) as f:
            nodes = f.read()
        servers = "".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=5s;\n"
                          for p in node_ports)
        nodes, n = re.subn(r"(?m)^    server 127\.0\.0\.1:800\d[^\n]*\n", "", nodes)
        assert n == 3, "liveproof-nodes.conf lists three example nodes"
        nodes = nodes.replace("    least_conn;\n", "    least_conn;\n" + servers)
        site = site.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        # Every client of the test has one address: the per-client cap goes up for it.
        site = site.replace("limit_conn liveproof_per_client 16;",
                            "limit_conn liveproof_per_client 256;")
        assert "liveproof_per_client 256;" in site, "the site file caps connections per client"
        with open(os.path.join(self.dir, "liveproof.conf"), "w") as f:
            f.write(site)
        with open(os.path.join(self.dir, "liveproof-nodes.conf"), "w") as f:
            f.write(nodes)
        d = self.dir
        conf = (f"worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
                f"events {{ worker_connections 512; }}\n"
                f"http {{\n  access_log {d}/access.log;\n"
                f"  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n"
                f"  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n"
                f"  scgi_temp_path {d}/scgi;\n  include {d}/liveproof-nodes.conf;\n"
                f"  include {d}/liveproof.conf;\n}}\n")
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None

    def start(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        test = subprocess.run([nginx, "-t", "-c", self.conf, "-p", self.dir], timeout=30,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{test.stdout.decode()}")
        self.proc = subprocess.Popen([nginx, "-c", self.conf, "-p", self.dir, "-g",
                                      "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not listen")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
