"""/api/auth/* and /api/profile/*: one route per AuthService RPC."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from swarmcast.auth.v1 import auth_pb2

from services.gateway.convert import message_to_json, model_for
from services.gateway.deps import Anonymous, Clients, SignedIn, rpc
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.models import (
    ChangePasswordBody,
    Credentials,
    DeleteAccountBody,
    ForgotPasswordBody,
    LogoutBody,
    OkResponse,
    RefreshBody,
    ResetPasswordBody,
    Token,
)

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)

UserModel = model_for(auth_pb2.User.DESCRIPTOR)
Session = model_for(auth_pb2.LoginResponse.DESCRIPTOR)
Tokens = model_for(auth_pb2.ChangePasswordResponse.DESCRIPTOR)


class UserResponse(BaseModel):
    user: UserModel  # type: ignore[valid-type]


class SessionResponse(Session):  # type: ignore[valid-type,misc]
    token_type: str = Field("Bearer", description="send the access token as `Authorization: Bearer …`")


def _session(message: Any) -> dict[str, Any]:
    return {**message_to_json(message), "token_type": "Bearer"}


@router.post("/api/auth/register", response_model=SessionResponse, status_code=201)
async def register(body: Credentials, caller: Anonymous, services: Clients, request: Request) -> Any:
    """Creates an account and signs it in; a verification email is sent."""
    reply = await rpc(
        services.auth.Register,
        auth_pb2.RegisterRequest(email=body.email, password=body.password),
        caller,
        request,
    )
    return _session(reply)


@router.post("/api/auth/login", response_model=SessionResponse)
async def login(body: Credentials, caller: Anonymous, services: Clients, request: Request) -> Any:
    """Email and password → access and refresh tokens. Rate-limited per client address and email."""
    reply = await rpc(
        services.auth.Login, auth_pb2.LoginRequest(email=body.email, password=body.password), caller, request
    )
    return _session(reply)


@router.post("/api/auth/refresh", response_model=SessionResponse)
async def refresh(body: RefreshBody, caller: Anonymous, services: Clients, request: Request) -> Any:
    """A refresh token → a new token pair (the old refresh token is used up)."""
    reply = await rpc(
        services.auth.Refresh, auth_pb2.RefreshRequest(refresh_token=body.refresh_token), caller, request
    )
    return _session(reply)


@router.post("/api/auth/logout", status_code=204, response_class=Response)
async def logout(body: LogoutBody, caller: Anonymous, services: Clients, request: Request) -> Response:
    """Revokes one refresh token (log out of this device)."""
    await rpc(services.auth.Logout, auth_pb2.LogoutRequest(refresh_token=body.refresh_token), caller, request)
    return Response(status_code=204)


@router.get("/api/auth/verify", response_model=UserResponse)
async def verify_email(
    token: Annotated[Token, Query(description="the token from the verification email")],
    caller: Anonymous,
    services: Clients,
    request: Request,
) -> Any:
    """Marks the email address verified."""
    reply = await rpc(services.auth.VerifyEmail, auth_pb2.VerifyEmailRequest(token=token), caller, request)
    return message_to_json(reply)


@router.post("/api/auth/forgot-password", response_model=OkResponse, status_code=202)
async def forgot_password(
    body: ForgotPasswordBody, caller: Anonymous, services: Clients, request: Request
) -> Any:
    """Sends a reset link if the address has an account; never says whether it has one."""
    await rpc(
        services.auth.RequestPasswordReset,
        auth_pb2.RequestPasswordResetRequest(email=body.email),
        caller,
        request,
    )
    return OkResponse(message="if that address has an account, a reset link is on its way")


@router.post("/api/auth/reset-password", response_model=OkResponse)
async def reset_password(
    body: ResetPasswordBody, caller: Anonymous, services: Clients, request: Request
) -> Any:
    """Sets a new password with the token from the reset email; other sessions are signed out."""
    await rpc(
        services.auth.ResetPassword,
        auth_pb2.ResetPasswordRequest(token=body.token, new_password=body.new_password),
        caller,
        request,
    )
    return OkResponse(message="password changed; sign in with the new password")


@router.get("/api/profile", response_model=UserResponse, tags=["profile"])
async def profile(caller: SignedIn, services: Clients, request: Request) -> Any:
    """The signed-in user (id, email, verification, roles)."""
    reply = await rpc(services.auth.GetUser, auth_pb2.GetUserRequest(), caller, request)
    return message_to_json(reply)


@router.post("/api/profile/resend-verification", response_model=OkResponse, status_code=202, tags=["profile"])
async def resend_verification(caller: SignedIn, services: Clients, request: Request) -> Any:
    """Sends the verification email again."""
    await rpc(services.auth.ResendVerification, auth_pb2.ResendVerificationRequest(), caller, request)
    return OkResponse(message="verification email sent")


@router.put("/api/profile/password", response_model=Tokens, tags=["profile"])
async def change_password(
    body: ChangePasswordBody, caller: SignedIn, services: Clients, request: Request
) -> Any:
    """Changes the password; every other session is signed out and this one gets new tokens."""
    reply = await rpc(
        services.auth.ChangePassword,
        auth_pb2.ChangePasswordRequest(
            current_password=body.current_password, new_password=body.new_password
        ),
        caller,
        request,
    )
    return message_to_json(reply)


@router.delete("/api/profile/account", status_code=204, response_class=Response, tags=["profile"])
async def delete_account(
    body: DeleteAccountBody, caller: SignedIn, services: Clients, request: Request
) -> Response:
    """Deletes the account (confirmed with the password); its jobs and artifacts are removed."""
    await rpc(
        services.auth.DeleteAccount, auth_pb2.DeleteAccountRequest(password=body.password), caller, request
    )
    return Response(status_code=204)
