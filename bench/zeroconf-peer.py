#!/usr/bin/python3
# The discovery bench's independent mDNS peer (python3-zeroconf, which nobody here wrote), run
# inside the bench's network namespace. Two modes, both speaking JSON lines on stdout with epoch
# milliseconds, so the bench compares them with Gatehouse's event times on the same clock:
#
#   publish   reads commands on stdin:  register NAME PORT  |  unregister NAME  |  quit
#             prints {"event": "registering"|"registered"|"unregistered", "name", "ms"}
#   browse    browses _http._tcp and prints {"event": "add"|"remove", "name", "ms"}
#
# Only loopback is used: the namespace has nothing else, and the host network is never reached.
import json
import socket
import sys
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, Zeroconf

TYPE = "_http._tcp.local."


def say(event, name, **extra):
    print(json.dumps({"event": event, "name": name, "ms": time.time() * 1000, **extra}), flush=True)


def publish():
    zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    services = {}
    say("ready", "")
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "register":
            name, port = words[1], int(words[2])
            info = ServiceInfo(
                TYPE,
                f"{name}.{TYPE}",
                addresses=[socket.inet_aton("127.0.0.1")],
                port=port,
                properties={"path": "/"},
                server=f"{name}.local.",
            )
            say("registering", name)
            zc.register_service(info)
            services[name] = info
            say("registered", name)
        elif words[0] == "unregister":
            name = words[1]
            zc.unregister_service(services.pop(name))
            say("unregistered", name)
        elif words[0] == "quit":
            break
    zc.close()


class Listener:
    def add_service(self, zc, type_, name):
        say("add", name.split(".")[0])

    def remove_service(self, zc, type_, name):
        say("remove", name.split(".")[0])

    def update_service(self, zc, type_, name):
        pass


def browse():
    zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    ServiceBrowser(zc, TYPE, Listener())
    say("ready", "")
    try:
        sys.stdin.read()  # until the bench closes stdin or stops this process
    finally:
        zc.close()


if __name__ == "__main__":
    {"publish": publish, "browse": browse}[sys.argv[1]]()
