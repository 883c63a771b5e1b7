"""A kind of spam the shipped model has not seen, and ham on the same subject, for the loop test.

"Recovery" scams: comments under articles about fraud that vouch for a "hacker" who got someone's
money back, with a contact handle. Ham: readers discussing the same losses honestly. Each call
with a different seed gives different names, amounts, handles and wording.
"""

from __future__ import annotations

import random

NAMES = ["Marcus", "Elena", "Dr. Wilson", "Jack Ryan", "Sophia", "Hank", "Lara Quinn", "Victor"]
NAMES += ["Agent Kelly", "Olivia", "Brandon", "Ms. Patel", "Gregory", "Nina", "Theo", "Ray Cole"]
FIRMS = ["Recovery Hacker", "Asset Retrieval", "Cyber Restore", "FundBack Pro", "Chain Recover"]
PLATFORMS = ["a fake crypto exchange", "an online forex broker", "a bitcoin mining scheme"]
PLATFORMS += ["a romance scammer", "a binary options site", "an NFT presale", "a trading bot"]
CHANNELS = ["Telegram", "WhatsApp", "email", "Signal", "Instagram"]
OPENERS = ["I never believed it until it happened to me.", "Sharing this to help someone."]
OPENERS += ["Honestly this saved my family.", "Don't give up like I almost did.", ""]
SPAM_TEMPLATES = [
    "{opener} I lost ${amount} to {platform} and {name} of {firm} got every coin back in "
    "{hours} hours. Reach them on {channel} {handle}",
    "After losing ${amount} to {platform} I contacted {name} ({firm}) on {channel} {handle}. "
    "Legit and fast, all my funds recovered. {opener}",
    "{opener} If you were scammed by {platform}, talk to {name} at {firm}. {channel}: "
    "{handle}. They recovered ${amount} for me.",
    "Big thanks to {name} from {firm}! {platform} stole ${amount} from me, recovered within "
    "{hours} hours. Contact on {channel} {handle} {opener}",
]
HAM_TEMPLATES = [
    "My uncle lost ${amount} to {platform} last year. The bank could not do anything and the "
    "police report went nowhere. Articles like this matter.",
    "Be careful with anyone offering to recover money after a scam: after {platform} took "
    "${amount} from my friend, two 'recovery' people asked her for fees too.",
    "{opener} We reported {platform} to the regulator, it took {hours} days to even get a reply. "
    "Nothing came back, but at least it is on record.",
    "The part about {platform} is spot on. My neighbour lost ${amount} and was too ashamed to "
    "tell anyone for months.",
    "Does anyone know whether the consumer protection office handles cases like {platform}? "
    "A colleague lost about ${amount}.",
]


def _handle(rng: random.Random, name: str) -> str:
    base = "".join(ch for ch in name.lower() if ch.isalpha())[:8]
    style = rng.randrange(3)
    if style == 0:
        return f"@{base}{rng.choice(['recovery', 'hack', 'fix', 'restore'])}{rng.randrange(10, 99)}"
    if style == 1:
        digits = (rng.randrange(200, 999), rng.randrange(100, 999), rng.randrange(1000, 9999))
        return "+1 {} {} {}".format(*digits)
    word = rng.choice(["recover", "assets", "cyber"])
    return f"{base}.{word}@{rng.choice(['gmail.com', 'proton.me'])}"


def _fill(rng: random.Random, template: str) -> str:
    name = rng.choice(NAMES)
    return " ".join(
        template.format(
            opener=rng.choice(OPENERS),
            amount=f"{rng.randrange(3, 240) * 1000:,}",
            platform=rng.choice(PLATFORMS),
            name=name,
            firm=rng.choice(FIRMS),
            hours=rng.choice([24, 48, 72, 36, 12]),
            channel=rng.choice(CHANNELS),
            handle=_handle(rng, name),
        ).split()
    )


def comments(count: int, seed: int) -> list[tuple[dict[str, str], int]]:
    """`count` comments, half new-kind spam (label 1) and half same-subject ham (label 0)."""
    rng = random.Random(seed)
    made = []
    for index in range(count):
        spam = index % 2 == 0
        template = rng.choice(SPAM_TEMPLATES if spam else HAM_TEMPLATES)
        author = rng.choice(NAMES if spam else ["Anna K.", "tom_b", "Priya", "J. Miller", "Kofi"])
        comment = {
            "comment_content": _fill(rng, template),
            "comment_author": author.replace("Dr. ", "").replace("Agent ", ""),
            "comment_author_email": f"reader{rng.randrange(1000)}@example.org",
            "user_ip": f"198.51.100.{rng.randrange(1, 255)}",
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
            "comment_type": "comment",
        }
        made.append((comment, 1 if spam else 0))
    return made
