"""The voice door (1500-771): Twilio IVR webhooks. Being written."""

from fastapi import APIRouter

router = APIRouter(tags=["webhooks"])
