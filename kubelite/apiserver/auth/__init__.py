"""Who is asking and may they: the API server's authentication and authorization.

`user.py` says who a request comes from (upstream's user.Info), `attributes.py` what it
asks for (authorizer.Attributes) and how a refusal reads. The handler (app.py) runs
the configured Authenticator, then the Authorizer, on every request before routing it;
the user rides on the request as `request[USER]` for admission and the review APIs.

`serviceaccount/` issues and checks ServiceAccount tokens; `audiences.py` says which
audiences a token is good for; `reviews.py` serves TokenReview and SelfSubjectReview.
"""
