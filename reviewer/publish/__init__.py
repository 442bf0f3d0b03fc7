"""Publishers: the only modules that talk to GitHub and GitLab. One module per platform; what they
share (the sticky marker, the comment body, retries, the outcome record) is in `common`."""
