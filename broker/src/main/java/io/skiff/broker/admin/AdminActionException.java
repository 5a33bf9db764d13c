package io.skiff.broker.admin;

/** An {@link AdminAction} refused: the HTTP status to answer, and why. */
public final class AdminActionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  public AdminActionException(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
