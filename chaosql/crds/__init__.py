"""CRD manifests chaosql ships (see README.md here for their source and licence).

>>> chaos_mesh_crds().name
'crd.yaml'
>>> chaos_mesh_crds().is_file() and litmus_crds().is_file()
True
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def chaos_mesh_crds() -> Path:
    """Chaos Mesh's ``manifests/crd.yaml``: every chaos-mesh.org/v1alpha1 CustomResourceDefinition."""
    return HERE / "chaos-mesh" / "crd.yaml"


def chaos_mesh_examples() -> Path:
    """The folder of Chaos Mesh's example experiments (one object per file, some in sub-folders)."""
    return HERE / "chaos-mesh" / "examples"


def litmus_crds() -> Path:
    """LitmusChaos's ``deploy/chaos_crds.yaml``: ChaosEngine, ChaosExperiment, ChaosResult."""
    return HERE / "litmus" / "crd.yaml"
