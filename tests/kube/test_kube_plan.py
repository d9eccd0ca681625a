"""How a list filter becomes list-call parameters (pure code: no apiserver needed)."""

from __future__ import annotations

import pytest

from chaosql.sources.base import ListFilter
from chaosql.sources.kube import CORE_RESOURCES, Resource, plan_list

PODCHAOS = Resource("PodChaos", "/apis/chaos-mesh.org/v1alpha1", "podchaos", True)
NODES, EVENTS, PODS = CORE_RESOURCES["Node"], CORE_RESOURCES["Event"], CORE_RESOURCES["Pod"]


@pytest.mark.parametrize(
    "resource, flt, namespaces, params, refilter",
    [
        (PODCHAOS, ListFilter(), [None], {}, False),
        (PODCHAOS, ListFilter(namespaces=frozenset({"b", "a"})), ["a", "b"], {}, False),
        (PODCHAOS, ListFilter(names=frozenset({"x"})), [None], {"fieldSelector": "metadata.name=x"}, False),
        (PODCHAOS, ListFilter(names=frozenset({"x", "y"})), [None], {}, True),
        (
            PODCHAOS,
            ListFilter(labels=(("app", frozenset({"web", "api"})),)),
            [None],
            {"labelSelector": "app in (api,web)"},
            False,
        ),
        # not a valid label value: the server would answer 400, so chaosql filters instead
        (PODCHAOS, ListFilter(labels=(("app", frozenset({"a b"})),)), [None], {}, True),
        (PODCHAOS, ListFilter(labels=(("team/x/y", frozenset({"a"})),)), [None], {}, True),
        # custom resources have no field selectors beyond metadata
        (PODCHAOS, ListFilter(fields=(("spec.action", "pod-kill"),)), [None], {}, True),
        (EVENTS, ListFilter(fields=(("reason", "a,b=c"),)), [None], {"fieldSelector": "reason=a\\,b\\=c"}, False),
        (
            PODS,
            ListFilter(fields=(("spec.nodeName", "n1"),), names=frozenset({"p"})),
            [None],
            {"fieldSelector": "metadata.name=p,spec.nodeName=n1"},
            False,
        ),
    ],
)
def test_filters_become_list_parameters(resource, flt, namespaces, params, refilter):
    plan = plan_list(resource, flt)
    assert (plan.namespaces, plan.params, plan.refilter, plan.empty) == (namespaces, params, refilter, False)


@pytest.mark.parametrize(
    "resource, flt",
    [
        (NODES, ListFilter(namespaces=frozenset({"shop"}))),  # cluster-scoped objects have no namespace
        (PODCHAOS, ListFilter(namespaces=frozenset())),  # namespace IN (NULL)
        (PODCHAOS, ListFilter(namespaces=frozenset({"Not A Namespace"}))),
        (PODCHAOS, ListFilter(names=frozenset())),
    ],
)
def test_filters_nothing_can_match_make_no_call(resource, flt):
    assert plan_list(resource, flt).empty


def test_the_kubernetes_package_is_not_imported_until_a_cluster_is_used():
    import subprocess
    import sys

    code = (
        "import sys, chaosql.cli; from chaosql.sources import open_source; s = open_source('kube:prod'); "
        "assert s.name == 'prod'; print('kubernetes' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
