//! The guide: tulip beside asyncio, topic by topic.
