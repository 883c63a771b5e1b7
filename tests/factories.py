"""Small labelled comments the tests write themselves (never the public corpora)."""

from __future__ import annotations

import random

from model.features import Comment
from training.data import HAM, SPAM, Example

SPAM_TEXTS = [
    "Buy cheap viagra online, no prescription needed http://cheap-meds-rx.example.shop",
    "Best casino bonus 2024!!! Claim 500 free spins now at http://casino-win.example.win",
    "Make $5000 a week from home, my account manager changed my life, WhatsApp +1 555 0199 2211",
    "Great post! Very informative. Visit my site for cheap SEO backlinks http://seo.example.xyz",
    "Need a loan fast? Approval in 5 minutes, no credit check http://loan-now.example.biz",
    "Essay writing service: we write your homework, 100% plagiarism free http://essays.example.top",
    "Hot singles in your area want to meet you tonight http://dating.example.online",
    "Invest in bitcoin with our expert trader and double your money in 7 days",
    "Replica watches and designer bags at 90% off, free shipping worldwide",
    "Check out my channel and subscribe for free iPhone giveaways http://bit.ly/free-phone",
    "Купить дешевые таблетки без рецепта http://apteka.example.ru",
    "{Hi|Hello|Hey} there, {great|awesome} article, visit http://spin.example.info",
]
HAM_TEXTS = [
    "Thanks for the clear explanation of async Rust, the section on pinning finally clicked.",
    "I tried the recipe with less sugar and it still turned out great, my kids loved it.",
    "The council meeting is on Tuesday, I hope they finally fix the traffic lights on Main St.",
    "Small correction: the function was added in Python 3.11, not 3.10. See the changelog.",
    "My doctor told me to take ibuprofen with food, does the article's advice agree with that?",
    "We budget about 20% of our income for savings, the 50/30/20 rule worked well for us.",
    "I got one of those lottery scam emails last week too, glad you wrote about it.",
    "Disagree with your take on remote work, but the data section is well done.",
    "Merci pour cet article, très utile pour mon jardin cette année.",
    "Does this also work on Windows? I get a permission error when running the script.",
    "Planted the tomatoes two weeks early this year and they survived the frost, barely.",
    "Here is the upstream issue for reference: https://github.com/example/project/issues/42",
]
AUTHORS_SPAM = ["Cheap Meds Online", "Best SEO Services London", "casino_king77", "Loan Expert"]
AUTHORS_HAM = ["Anna", "Tom Becker", "jmiller", "Priya S.", "Kenji", "Lucía"]


def make_comment(rng: random.Random, spam: bool) -> Comment:
    """Compose one comment with Akismet's field names from the lists above."""
    texts = SPAM_TEXTS if spam else HAM_TEXTS
    first, second = rng.sample(texts, 2)
    content = first if rng.random() < 0.5 else f"{first} {second.split(',')[0]}."
    comment = {
        "comment_content": content,
        "comment_author": rng.choice(AUTHORS_SPAM if spam else AUTHORS_HAM),
        "user_ip": f"203.0.113.{rng.randrange(1, 255)}",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    }
    if rng.random() < 0.6:
        comment["comment_author_email"] = f"user{rng.randrange(100)}@example.com"
    if spam and rng.random() < 0.5:
        comment["comment_author_url"] = "http://cheap-deals.example.shop"
    return comment


def make_comments(count: int, seed: int = 0) -> list[tuple[Comment, int]]:
    """Return `count` (comment, label) pairs, half spam, in a seeded order."""
    rng = random.Random(seed)
    return [(make_comment(rng, spam=i % 2 == 0), SPAM if i % 2 == 0 else HAM) for i in range(count)]


def make_examples(count: int, seed: int = 0, source: str = "fixture") -> list[Example]:
    """Return `count` labelled examples with distinct texts (a counter makes each unique)."""
    examples = []
    for i, (comment, label) in enumerate(make_comments(count, seed)):
        comment = {**comment, "comment_content": f"{comment['comment_content']} #{i}"}
        examples.append(
            Example(comment, label, source, "fixture.jsonl", i + 1, i, comment["comment_content"])
        )
    return examples
