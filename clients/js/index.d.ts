/**
 * Types of parley-client (chat-client.js): the Parley protocol v1 (docs/PROTOCOL.md) over HTTP and
 * WebSocket. The JavaScript is the implementation and its header comment the longer description;
 * test/declarations.test.mjs fails when a name it exports, or a public method of ChatClient, has no
 * declaration here, and `npm run types` (tsc) checks this file and test/usage.ts against each other.
 */

/** The limits a server advertises (GET /api/limits, PROTOCOL.md 3.5), which the client keeps to. */
export interface Limits {
  sendRate: number;
  sendBurst: number;
  typingRate: number;
  maxFrameBytes: number;
  maxTextLength: number;
  clientIdMaxLength: number;
  roomPattern: string;
  roomNameMaxLength: number;
  usernamePattern: string;
  passwordMinLength: number;
  passwordMaxLength: number;
  historyLimitDefault: number;
  historyLimitMax: number;
  replayLimit: number;
}

/** The server's defaults (PROTOCOL.md 14), kept to until the server says otherwise. */
export declare const DEFAULT_LIMITS: Readonly<Limits>;

/** The default room-name rule; a server may have another (ChatClient.isValidRoomName knows it). */
export declare const ROOM_NAME_RE: RegExp;

/** Milliseconds since the epoch at which a token ends: from `expiresAt` (ISO string, seconds or ms), else the token's `exp`; Infinity if unknown. */
export declare function expiryMillis(expiresAt: string | number | null | undefined, token?: string | null): number;

/** The target of a `Link: <...>; rel="next"` header, or null. */
export declare function nextLink(header: string | null | undefined): string | null;

/** The read-state fields of a `joined` or `read` frame, or of a listed room. */
export declare function readState(frame: unknown): ReadState;

export interface ReadState {
  /** The user's read marker, or null when they have none. */
  readSeq: number | null;
  /** Others' messages after the marker. */
  unread: number;
  /** How many of those mention the user. */
  mentions: number;
}

/** A room event (PROTOCOL.md "Room events"): a change of the room, in its order with the messages. */
export interface RoomEvent {
  type: string;
  user?: string;
  by?: string;
  [field: string]: unknown;
}

export interface Reaction {
  emoji: string;
  count: number;
  users: string[];
}

/** A message as the client hands it out (PROTOCOL.md 2, "Message"). */
export interface Message {
  room: string;
  /** Position in the room, consecutive from 1; null on the pending copy of our own send. */
  seq: number | null;
  id: string | null;
  from: string;
  text: string;
  ts: string;
  clientId: string | null;
  /** Whom the text mentions ([] if nobody); absent on a pending copy. */
  mentions?: string[];
  /** Set on a room event; its `text` says it in English. */
  event?: RoomEvent;
  replyTo?: number;
  bot?: true;
  editedAt?: string;
  deleted?: true;
  reactions?: Reaction[];
  lastChange?: number;
}

/** A send the server has not acknowledged yet, or one it refused (then `failed` says why). */
export interface UnsentMessage {
  room: string;
  text: string;
  clientId: string;
  ts: string;
  replyTo?: number;
  failed?: { code: string; message: string };
}

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The payload (`event.detail`) of each event, by its name. */
export interface ChatClientEventMap {
  state: { state: ConnectionState; code?: number; delay?: number };
  /** Newer messages, in seq order, each once; `pending`: our own copy before the server stored it; `local`: sent by this client. */
  message: { room: string; message: Message; pending: boolean; local: boolean };
  /** Our send is stored; `earlier`: it was stored before this connection joined (re-sent after a reload or a lost ack), and no echo follows. */
  ack: { room: string; clientId: string; seq: number; id: string; ts: string; earlier: boolean };
  /** The server refused a send (or the client did, for its size: `too_large`); kept until retry() or discard(). */
  sendfailed: { room: string; clientId: string; code: string; message: string };
  /** The room is joined on this connection; `resumed`: again, after a reconnect, with what was missed replayed after it. */
  joined: ReadState & {
    room: string;
    lastSeq: number;
    online: number;
    members: string[];
    recovered: boolean;
    resumed: boolean;
    historyStart: number;
  };
  read: ReadState & { room: string; lastSeq: number };
  /** `reason` when the server took this user out of the room; the room is forgotten. */
  left: { room: string; reason?: 'removed' | 'banned' | 'left' | 'room_deleted' | string };
  /** Older pages, always below everything handed out so far. */
  history: { room: string; messages: Message[]; hasMore: boolean; initial: boolean; historyStart: number };
  presence: {
    room: string;
    status: 'online' | 'offline' | 'summary';
    user?: string;
    joined?: string[];
    left?: string[];
    online: number;
    members: string[];
  };
  typing: { room: string; user: string };
  pong: Record<string, never>;
  /** An `error` frame (PROTOCOL.md 8), or a failure of the client's own (`connect_failed`); `frame`: the type of the frame it answers. */
  error: { code: string; message: string; ref?: string; room?: string; frame?: string };
  /** The answer to edit, deleteMessage or react: `seq` of the change's event, null when nothing changed. */
  changed: { room: string; target: number; seq: number | null; frame?: string };
  /** The token is expired, refused or revoked: the client has stopped. */
  unauthorized: { reason: 'token_expired' | 'http_401' | 'session_revoked' | 'session_replaced' | string };
  limits: { limits: Limits };
}

/** What login, register and resume resolve to (PROTOCOL.md 3.2). */
export interface Session {
  token: string;
  username: string;
  expiresAt?: string | number | null;
  sessionExpiresAt?: string | number | null;
  [field: string]: unknown;
}

/** The smallest WebSocket the client needs: the browser's, Node 22's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ChatClientOptions {
  /** A WebSocket class: Node 20 has none, so pass the `ws` package's (`import WebSocket from 'ws'`). */
  WebSocket?: new (url: string) => WebSocketLike;
  /** A fetch function (default: the global one). */
  fetch?: (input: string, init?: any) => Promise<any>;
  /** Start with a session, as setAuth would. */
  token?: string;
  username?: string;
  expiresAt?: string | number | null;
  sessionExpiresAt?: string | number | null;
  /** 'cookie': sign in for a browser session, for a page served by the Parley server itself. */
  session?: 'bearer' | 'cookie';
  /** Where unacknowledged sends outlive a reload (a page passes sessionStorage). */
  storage?: StorageLike;
}

/** A room as listed (PROTOCOL.md 3.3, GET /api/rooms). */
export interface RoomInfo extends ReadState {
  name: string;
  kind: 'public' | 'private' | 'direct';
  topic: string | null;
  role: 'owner' | 'moderator' | 'member' | null;
  members: number;
  with?: string;
  lastSeq: number;
  online: number;
  historyStart: number;
  retention?: { days: number | null; messages: number | null };
  [field: string]: unknown;
}

export interface Member {
  user: string;
  role: 'owner' | 'moderator' | 'member';
  mutedUntil: string | null;
}

export interface Ban {
  user: string;
  by: string;
  reason: string | null;
  until: string | null;
  at: string;
}

export interface HistoryPage {
  room: string;
  messages: Message[];
  hasMore: boolean;
  historyStart?: number;
}

/** A refusal of the HTTP API (or of the client, with status 0): `code` as in PROTOCOL.md 8. */
export interface ChatError extends Error {
  status: number;
  code: string;
}

export declare class ChatClient extends EventTarget {
  /** @param baseUrl the server's origin (default: this page's origin; required outside a browser) */
  constructor(baseUrl?: string, options?: ChatClientOptions);

  readonly baseUrl: string;
  token: string | null;
  username: string | null;
  expiresAt: string | number | null;
  sessionExpiresAt: string | number | null;
  /** The limits kept to: the server's once loaded, the defaults until then. */
  limits: Limits;

  readonly state: ConnectionState;
  readonly joinedRooms: string[];
  readonly limitsLoaded: boolean;
  isJoined(room: string): boolean;
  isReady(room: string): boolean;
  members(room: string): string[];
  online(room: string): number | null;
  lastSeq(room: string): number | null;
  hasOlder(room: string): boolean;
  pendingMessages(): UnsentMessage[];
  failedMessages(): UnsentMessage[];
  isValidRoomName(room: string): boolean;

  /** addEventListener that hands `detail` to the handler; returns a function that unsubscribes. */
  on<K extends keyof ChatClientEventMap>(type: K, handler: (detail: ChatClientEventMap[K], event: CustomEvent<ChatClientEventMap[K]>) => void): () => void;

  setAuth(session: { token: string; username: string; expiresAt?: string | number | null; sessionExpiresAt?: string | number | null }): void;
  register(username: string, password: string): Promise<Session>;
  login(username: string, password: string): Promise<Session>;
  resume(): Promise<Session | null>;
  renew(): Promise<boolean>;
  revoke(options?: { all?: boolean }): Promise<void>;

  rooms(filter?: { kind?: 'public' | 'private' | 'direct'; prefix?: string }): Promise<RoomInfo[]>;
  room(name: string): Promise<RoomInfo>;
  createRoom(room: { name: string; visibility?: 'public' | 'private'; topic?: string }): Promise<RoomInfo>;
  openDirect(user: string): Promise<RoomInfo>;
  deleteRoom(name: string): Promise<unknown>;
  roomMembers(room: string): Promise<Member[]>;
  setMember(room: string, user: string, changes?: { role?: 'moderator' | 'member'; mutedUntil?: string | null }): Promise<unknown>;
  removeMember(room: string, user: string): Promise<unknown>;
  ban(room: string, user: string, options?: { reason?: string; until?: string }): Promise<unknown>;
  unban(room: string, user: string): Promise<unknown>;
  bans(room: string): Promise<Ban[]>;
  loadLimits(): Promise<Limits>;
  /** One page of who is online; pass `next` as `cursor` for the next page. */
  presence(room: string, options?: { limit?: number; cursor?: string }): Promise<{ room: string; users: string[]; next: string | null }>;
  history(room: string, page?: { before?: number; after?: number; limit?: number }): Promise<HistoryPage>;

  /** Opens the WebSocket, and keeps it open: reconnects with back-off and resumes every joined room. */
  connect(): void;
  /** Closes the socket and stops reconnecting; rooms and unsent messages are kept. */
  close(): void;
  /** close() and forget the session; `keepUnsent` leaves unsent messages in `storage`. */
  logout(options?: { keepUnsent?: boolean }): void;

  /** Joins a room, and keeps it joined across reconnects; throws (code bad_request) on a name the server's rule refuses. */
  join(room: string, options?: { checkName?: boolean }): boolean;
  leave(room: string): boolean;
  drop(room: string): boolean;
  /** Queues a message, sent paced and in order, re-sent under the same clientId until acknowledged; returns its clientId (null for an empty text). */
  send(room: string, text: string, options?: { replyTo?: number }): string | null;
  retry(clientId: string): boolean;
  discard(clientId: string): boolean;
  edit(room: string, seq: number, text: string): string;
  deleteMessage(room: string, seq: number): string;
  react(room: string, seq: number, emoji: string, on: boolean): string;
  typing(room: string): boolean;
  loadOlder(room: string, limit?: number): boolean;
  markRead(room: string, seq: number): boolean;
  ping(): boolean;
  refresh(token: string, expiresAt?: string | number | null): boolean;
}
