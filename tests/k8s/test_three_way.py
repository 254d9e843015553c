"""kubectl apply's three-way patch: what the manifest sets, what it no longer has (from the
last-applied configuration), lists merged by their strategic-merge key."""

from __future__ import annotations

from opsconsole.k8s.tools_change import strategic_groups, three_way


def test_sets_changes_and_deletes_what_the_manifest_dropped():
    last = {"data": {"a": "1", "b": "2"}}
    new = {"data": {"a": "3"}}
    live = {"data": {"a": "1", "b": "2", "c": "set by someone else"}}
    assert three_way(last, new, live, strategic=True) == {"data": {"a": "3", "b": None}}


def test_containers_merge_by_name_keeping_server_defaults():
    live = {"containers": [{"name": "app", "image": "a:1", "terminationMessagePath": "/dev/x"},
                           {"name": "side", "image": "s:1"}]}  # fmt: skip
    last = {"containers": [{"name": "app", "image": "a:1"}, {"name": "side", "image": "s:1"}]}
    new = {"containers": [{"name": "app", "image": "a:2"}]}
    assert three_way(last, new, live, strategic=True) == {
        "containers": [{"name": "app", "image": "a:2"}, {"name": "side", "$patch": "delete"}]
    }
    # a JSON merge patch (custom resources) replaces the list as the manifest says
    assert three_way(last, new, live, strategic=False) == new


def test_ports_merge_by_container_port_or_service_port():
    live = {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}
    new = {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443, "targetPort": 8443}]}
    assert three_way({}, new, live, strategic=True) == {
        "ports": [{"port": 80, "targetPort": 9090}, {"port": 443, "targetPort": 8443}]
    }
    live_c = {"ports": [{"containerPort": 8080, "protocol": "TCP"}]}
    assert three_way({}, {"ports": [{"containerPort": 8080}]}, live_c, strategic=True) == {}


def test_which_groups_get_a_strategic_merge_patch():
    assert strategic_groups("") and strategic_groups("apps") and strategic_groups("batch")
    assert strategic_groups("networking.k8s.io")
    assert not strategic_groups("cert-manager.io") and not strategic_groups("example.com")
