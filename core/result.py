"""What a recognition returns: plain data, easy to print, serialize and show."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Alternative:
    latex: str
    confidence: float

    def to_dict(self) -> dict:
        return {"latex": self.latex, "confidence": round(self.confidence, 4)}


@dataclass
class Result:
    latex: str
    confidence: float
    alternatives: list[Alternative] = field(default_factory=list)
    ms: float = 0.0  # recognition time in this process, preprocessing included
    tokens: list[str] = field(default_factory=list)
    token_probs: list[float] = field(default_factory=list)
    empty_reason: str | None = None  # set when nothing could be read (blank image)

    def to_dict(self) -> dict:
        d = {
            "latex": self.latex,
            "confidence": round(self.confidence, 4),
            "alternatives": [a.to_dict() for a in self.alternatives],
            "ms": round(self.ms, 1),
        }
        if self.empty_reason:
            d["empty_reason"] = self.empty_reason
        return d
