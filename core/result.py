"""What a recognition returns: plain data, easy to print, serialize and show."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.latex import detokenize, token_spans


@dataclass
class Alternative:
    latex: str
    confidence: float

    def to_dict(self) -> dict:
        return {"latex": self.latex, "confidence": round(self.confidence, 4)}


# A token the model gave less than even odds is marked for the user to check. Label smoothing
# keeps even a sure token under ~0.9, so a whole formula's confidence falls with its length;
# a token's own probability says where, not whether, a reading may be wrong.
UNSURE_BELOW = 0.5
LOW_CONFIDENCE = 0.5  # a whole reading under this asks the user to check it


@dataclass
class UnsureSpan:
    """Characters ``start:end`` of the LaTeX, read with probability ``probability``."""

    start: int
    end: int
    text: str
    probability: float

    def to_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "probability": round(self.probability, 4),
        }


def unsure_spans(
    tokens: list[str], probs: list[float], threshold: float = UNSURE_BELOW
) -> list[UnsureSpan]:
    """The stretches of ``detokenize(tokens)`` (unknown tokens left out, as the result's LaTeX
    leaves them out) whose tokens each had a probability under ``threshold``; neighbours merge
    and keep the lowest probability. ``probs`` holds one probability per token (and may hold
    the end token's after them)."""
    pairs = [(t, p) for t, p in zip(tokens, probs, strict=False) if t != "<unk>"]
    if len(probs) < len(tokens) or not pairs:
        return []
    text_tokens = [t for t, _ in pairs]
    latex = detokenize(text_tokens)
    spans: list[UnsureSpan] = []
    for (start, end), (_, p) in zip(token_spans(text_tokens), pairs, strict=True):
        if p >= threshold:
            continue
        last = spans[-1] if spans else None
        if last and start - last.end <= 1:  # touching, or one space apart
            last.end, last.probability = end, min(last.probability, p)
            last.text = latex[last.start : end]
        else:
            spans.append(UnsureSpan(start, end, latex[start:end], p))
    return spans


@dataclass
class Result:
    latex: str
    confidence: float
    alternatives: list[Alternative] = field(default_factory=list)
    ms: float = 0.0  # recognition time in this process, preprocessing included
    tokens: list[str] = field(default_factory=list)
    token_probs: list[float] = field(default_factory=list)
    empty_reason: str | None = None  # set when nothing could be read (blank image)

    def unsure(self, threshold: float = UNSURE_BELOW) -> list[UnsureSpan]:
        """Where in ``latex`` the model was unsure (see ``unsure_spans``)."""
        return unsure_spans(self.tokens, self.token_probs, threshold)

    def to_dict(self) -> dict:
        d = {
            "latex": self.latex,
            "confidence": round(self.confidence, 4),
            "alternatives": [a.to_dict() for a in self.alternatives],
            "unsure": [s.to_dict() for s in self.unsure()],
            "ms": round(self.ms, 1),
        }
        if self.empty_reason:
            d["empty_reason"] = self.empty_reason
        return d
