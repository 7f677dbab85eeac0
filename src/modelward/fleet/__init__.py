"""The fleet: every service a node in the shared database, the fleet as its rows say, and
fleet-wide actions each node does its own part of (see ``node.py``)."""

from modelward.fleet.node import FleetNode, NodeParts
from modelward.fleet.records import (
    ACTION_KINDS,
    ActionKind,
    ActionResult,
    FleetAction,
    ModelOnNode,
    NodeRecord,
)
from modelward.fleet.view import FleetModel, FleetView, ModelCell, NodeView, summarise
from modelward.fleet.work import Workers, fleet_actor

__all__ = [
    "ACTION_KINDS",
    "ActionKind",
    "ActionResult",
    "FleetAction",
    "FleetModel",
    "FleetNode",
    "FleetView",
    "ModelCell",
    "ModelOnNode",
    "NodeParts",
    "NodeRecord",
    "NodeView",
    "Workers",
    "fleet_actor",
    "summarise",
]
